import Builder
import Foundation
import Tokenizer

enum MergeCommand {
    static let usage = """
        usage: finetok merge SHARD_DIR... --out DIR [--overwrite] [--threads N] [--quiet]

        Joins the shard folders of `finetok build --shard K/N` into exactly the files one build over
        the whole input writes: the same split, packing, formats and manifest.json, without encoding
        anything again. Every shard 1..N must be given once (in any order); shards built with other
        options, inputs, tokenizer or finetok version are refused. The inputs are read once more to
        hash them for the manifest, and must be unchanged since the shards were built.

          --out DIR              output folder (created if missing; must be empty unless --overwrite)
          --overwrite            replace finetok's files in a non-empty DIR
          --threads N            threads for writing and hashing (default: all cores)
          --quiet                no progress line or summary
          --vocab V ...          load the tokenizer from V instead of where the shards recorded it
                                 (it must be the same tokenizer: its files are checked)

        example (a Slurm array of 8, then the merge; see examples/slurm):
          finetok build data/*.jsonl --pack 2048 --format npy --shard auto --out shards/$SLURM_ARRAY_TASK_ID
          finetok merge shards/* --out dataset
        """

    static func run(_ argv: ArraySlice<String>) throws {
        let args = try Arguments(argv, spec: ArgumentSpec(valued: Vocabulary.valued.union(["out", "threads"]),
                                                          flags: Vocabulary.flags.union(["overwrite", "quiet"])))
        if args.has("help") { print(usage); return }
        guard !args.positionals.isEmpty else { throw UsageError("no shard folders: give the --out folders of `finetok build --shard K/N`") }
        guard let out = args.value("out") else { throw UsageError("--out DIR is required (the folder to write to)") }
        let threads = try args.int("threads", min: 1) ?? ProcessInfo.processInfo.activeProcessorCount
        let quiet = args.has("quiet")
        let tokenizer: Tokenizer
        if args.value("vocab") != nil {
            tokenizer = try Vocabulary.load(args)
        } else {
            let source: TokenizerSource?
            do { source = try Build.shardTokenizerSource(args.positionals[0]) } catch let e as BuildError { throw InputError(e.description) }
            guard let source else { throw UsageError("\(args.positionals[0]) does not record where its tokenizer came from; pass --vocab") }
            do { tokenizer = try source.load() } catch {
                throw InputError("cannot load the shards' tokenizer from \(source.path): \(error) (run the merge where the build ran, or pass --vocab)")
            }
        }
        let start = Date()
        let report = try withProgress(quiet: quiet) { progress in
            try Build.merge(shards: args.positionals, tokenizer: tokenizer, outputDirectory: out, overwrite: args.has("overwrite"),
                            threads: threads, log: { if !quiet { Console.note($0) } }, progress: progress)
        }
        if quiet { return }
        let seconds = Date().timeIntervalSince(start)
        var lines: [String] = []
        lines.append("shards       \(args.positionals.count) merged")
        lines.append("rows         \(report.rowsRead) read → \(report.trainRows) train, \(report.testRows) test")
        if let l = report.lengths {
            lines.append("tokens       \(l.total) in \(l.count) rows: min \(l.min), mean \(String(format: "%.1f", l.mean)), max \(l.max)")
        }
        for p in report.packing {
            lines.append(String(format: "packed       %@: %d examples → %d rows of ≤ %d tokens, efficiency %.1f%%", p.split, p.examples, p.rows, p.capacity, 100 * p.efficiency))
        }
        lines.append("wrote        \(out)/{\(report.files.joined(separator: ","))}")
        lines.append(String(format: "time         %.2f s", seconds))
        Console.out.write(lines.joined(separator: "\n") + "\n")
    }
}

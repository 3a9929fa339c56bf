import Builder
import Foundation
import Tokenizer

enum BenchCommand {
    static let usage = """
        usage: finetok bench [FILE...] [--vocab V] [--threads N] [--docs blank-lines|lines|whole] [--runs R] [--json] [--cache-stats]

        Tokenizer throughput: encodes each file's documents (input already in memory) and reports
        bytes, documents, tokens, seconds, MB/s and tokens/s for the encoding alone.
          FILE                 a .jsonl file (its --field, default text) or a text file; with no file,
                               a built-in synthetic workload of 20 MB of English-like text
          --docs MODE          how a text file becomes documents: blank-lines (default; as
                               anchor_bench.py, Python's split("\\n\\n") without empty ones), lines, whole
          --field NAME         the JSONL field (default: text)
          --threads N          encoding threads (default 1)
          --runs R             repeat R times and report the median time (default 3)
          --json               one JSON object per file: file, bytes, documents, tokens, seconds,
                               mb_per_s, tokens_per_s, threads, load_seconds
          --cache-stats        how the piece caches answered (byte-level models with a split
                               pattern): pieces by length, hit rates of the hot (1-8 bytes),
                               medium (9-16) and second-level caches, pieces merged (runs
                               the loop with counters, so time it without this flag)
        \(Vocabulary.help)

        Build it with -c release: swift run -c release finetok bench FILE
        """

    static func run(_ argv: ArraySlice<String>) throws {
        let args = try Arguments(argv, spec: ArgumentSpec(
            valued: Vocabulary.valued.union(["threads", "docs", "runs", "field"]),
            flags: Vocabulary.flags.union(["json", "cache-stats"])))
        if args.has("help") { print(usage); return }
        let threads = try args.int("threads", min: 1) ?? 1
        let runs = try args.int("runs", min: 1) ?? 3
        let split = DocumentSplit(rawValue: try args.choice("docs", DocumentSplit.allCases.map(\.rawValue)) ?? "blank-lines") ?? .blankLines
        let loadStart = Date()
        let tokenizer = try Vocabulary.load(args)
        tokenizer.finishLoading()
        let loadSeconds = Date().timeIntervalSince(loadStart)
        // The load's scratch (the vocabulary's JSON, the tables' building) goes back to the
        // system before the documents are read: the peak is then the tables, the documents and
        // the encoding (8 MB of en with cl100k: 81.4 -> 70.2 MB; a timed run faults ~40 pages
        // more, of ~12 k for the whole process).
        releaseFreeMemory()
        var inputs: [(String, Documents)] = []
        if args.positionals.isEmpty {
            inputs.append(("synthetic", syntheticDocuments(bytes: 20_000_000)))
        } else {
            for path in args.positionals {
                do { inputs.append((path, try Documents.load(path: path, split: split, field: args.value("field") ?? "text"))) } catch {
                    throw InputError("\(error)")
                }
            }
        }
        if !args.has("json") {
            Console.out.write(String(format: "tokenizer loaded in %.1f ms (%@)\n", loadSeconds * 1000, tokenizer.paths.joined(separator: ", ")))
            Console.out.write(pad("file", 28) + pad("MB", 9) + pad("docs", 9) + pad("tokens", 12) + pad("seconds", 9) + pad("MB/s", 9) + "tokens/s\n")
        }
        for (name, docs) in inputs {
            var results: [Throughput] = []
            for _ in 0..<runs { results.append(ParallelEncoder.run(docs, tokenizer: tokenizer, threads: threads, countsPieces: args.has("cache-stats")).0) }
            results.sort { $0.seconds < $1.seconds }
            let t = results[results.count / 2]
            if args.has("json") {
                let fields: [(String, String)] = [
                    ("file", JSON.quoted(name)), ("bytes", "\(t.bytes)"), ("documents", "\(t.documents)"), ("tokens", "\(t.tokens)"),
                    ("seconds", String(format: "%.4f", t.seconds)), ("mb_per_s", String(format: "%.2f", t.mbPerSecond)),
                    ("tokens_per_s", String(format: "%.0f", t.tokensPerSecond)), ("threads", "\(t.threads)"),
                    ("load_seconds", String(format: "%.4f", loadSeconds)),
                ] + (args.has("cache-stats") ? cacheFields(t.cache) : [])
                Console.out.write("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}\n")
            } else {
                Console.out.write(pad((name as NSString).lastPathComponent, 28) + pad(String(format: "%.1f", Double(t.bytes) / 1e6), 9)
                    + pad("\(t.documents)", 9) + pad("\(t.tokens)", 12) + pad(String(format: "%.3f", t.seconds), 9)
                    + pad(String(format: "%.1f", t.mbPerSecond), 9) + String(format: "%.0f\n", t.tokensPerSecond))
                if args.has("cache-stats") { Console.out.write(cacheSummary(t.cache)) }
            }
        }
    }

    /// Percent `part` of `whole` (0 when whole is 0).
    static func percent(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : 100 * Double(part) / Double(whole) }

    static func cacheFields(_ c: CacheStats) -> [(String, String)] {
        [("pieces", "\(c.shortPieces + c.mediumPieces + c.longPieces)"), ("short_pieces", "\(c.shortPieces)"),
         ("medium_pieces", "\(c.mediumPieces)"), ("long_pieces", "\(c.longPieces)"), ("hot_misses", "\(c.hotMisses)"), ("wide_hits", "\(c.wideHits)"),
         ("medium_misses", "\(c.mediumMisses)"), ("second_level_lookups", "\(c.secondLevelLookups)"),
         ("second_level_hits", "\(c.secondLevelHits)"), ("merges", "\(c.merges)")]
    }

    /// Two lines on how the piece caches answered (one run, the median's).
    static func cacheSummary(_ c: CacheStats) -> String {
        let pieces = c.shortPieces + c.mediumPieces + c.longPieces
        if pieces == 0 { return "  piece caches: not used by this tokenizer's pipeline\n" }
        return String(format: "  pieces %d: %.1f%% of 1-8 bytes (hot cache hits %.1f%%, then its side table %.1f%%), %.1f%% of 9-16 (medium cache hits %.1f%%), %.1f%% longer\n",
                      pieces, percent(c.shortPieces, pieces), 100 - percent(c.hotMisses, c.shortPieces), percent(c.wideHits, c.shortPieces),
                      percent(c.mediumPieces, pieces), 100 - percent(c.mediumMisses, c.mediumPieces), percent(c.longPieces, pieces))
            + String(format: "  second level: %d lookups, %.1f%% hits; merged %d pieces (%.1f%% of all)\n",
                     c.secondLevelLookups, percent(c.secondLevelHits, c.secondLevelLookups), c.merges, percent(c.merges, pieces))
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

    /// Deterministic English-like paragraphs (seeded), for a benchmark that needs no file.
    static func syntheticDocuments(bytes: Int) -> Documents {
        let words = ("the of and to in is that for it as was with be by on not he this are or his from at which but have an they "
            + "you were her all she there would their we him been has when who will more no if out so said what up its about into "
            + "than them can only other new some could time these two may then do first any my now such like our over man me even "
            + "most made after also did many before must through back years where much your way well down should because each just "
            + "tokenizer encoding vocabulary throughput benchmark fine-tuning dataset example prompt completion 2024 3.14 1,000 "
            + "don't it's we're they've I'm you'll he'd (see below) [note] {x: 1} e.g. i.e. naïve café Straße").split(separator: " ")
        var rng: UInt64 = 0x1234_5678
        func next() -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: rng >> 33)
        }
        var text: [UInt8] = []
        text.reserveCapacity(bytes + 1000)
        while text.count < bytes {
            let sentences = 1 + next() % 6
            for _ in 0..<sentences {
                let n = 4 + next() % 18
                for k in 0..<n {
                    var w = String(words[next() % words.count])
                    if k == 0 { w = w.prefix(1).uppercased() + w.dropFirst() }
                    text.append(contentsOf: w.utf8)
                    text.append(k == n - 1 ? UInt8(ascii: ".") : UInt8(ascii: " "))
                }
                text.append(UInt8(ascii: " "))
            }
            text.append(contentsOf: "\n\n".utf8)
        }
        return Documents.fromText(text, split: .blankLines)
    }
}

// `build`'s options for packing, text corpora and shards, and the summary lines they add.

import Builder
import Foundation
import Tokenizer

enum PretrainingOptions {
    static func apply(_ args: Arguments, to o: inout BuildOptions) throws {
        o.pack = try args.int("pack", min: 1)
        if let p = try args.choice("packing", PackingStrategy.allCases.map(\.rawValue)) {
            guard o.pack != nil else { throw UsageError("--packing needs --pack N (the packed row length)") }
            o.packing = PackingStrategy(rawValue: p) ?? .bfd
        }
        if let d = try args.choice("docs", DocumentSplit.allCases.map(\.rawValue)) { o.documents = DocumentSplit(rawValue: d) ?? .blankLines }
        let shards = try args.int("shards", min: 1)
        if let s = args.value("shard") {
            do {
                o.shard = s == "auto" ? try ShardSpec.fromEnvironment(ProcessInfo.processInfo.environment, shards: shards)
                    : try ShardSpec.parse(s)
            } catch let e as BuildError {
                throw UsageError(e.description)
            }
            if s != "auto" && shards != nil { throw UsageError("--shards goes with --shard auto (Kubernetes); --shard K/N already says N") }
            if args.positionals.contains("-") { throw UsageError("--shard reads byte ranges of files: standard input cannot be sharded") }
        } else if shards != nil {
            throw UsageError("--shards N goes with --shard auto")
        }
        o.tokenizerSource = try Vocabulary.source(args)
    }

    /// Lines for the build summary: packing, shard.
    static func summary(_ r: BuildReport, options o: BuildOptions, out: String) -> [String] {
        var lines: [String] = []
        for p in r.packing {
            lines.append(String(format: "packed       %@: %d examples → %d rows of ≤ %d tokens (%@), efficiency %.1f%%%@", p.split, p.examples, p.rows,
                                p.capacity, o.packing.rawValue, 100 * p.efficiency,
                                p.truncatedExamples > 0 ? " — \(p.truncatedExamples) examples cut to \(p.capacity) (\(p.truncatedTokens) tokens)" : ""))
        }
        if let shard = o.shard, let range = r.shardRange {
            lines.append("shard        \(shard): bytes \(range.lowerBound)..<\(range.upperBound) of the inputs; merge all \(shard.count) with `finetok merge DIR... --out OUT`")
        }
        return lines
    }
}

extension Vocabulary {
    /// Where `--vocab` and the loading options point, for shard folders.
    static func source(_ args: Arguments) throws -> TokenizerSource {
        TokenizerSource(path: try resolve(args.value("vocab") ?? "gpt2"), encoding: args.value("encoding"),
                        pattern: args.value("pattern"), allowSpecial: args.has("allow-special"))
    }
}

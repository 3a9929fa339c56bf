// `finetok merge SHARD_DIR... --out DIR`: the files one `build` over the whole input writes,
// from the shard folders of `build --shard K/N`, without encoding anything again.
//
//   1. check     every shard was built by this finetok with the same options, tokenizer and
//                inputs; shards 1...N each appear once and their byte ranges tile the inputs;
//                the inputs have the size and modification time the shards saw
//   2. hash      the SHA-256 of every input for the manifest: the shards hashed the files they
//                read whole; a file split between shards is read once more and hashed here, on
//                background threads (one per file, up to --threads) beside steps 3–4
//   3. gather    the shards' rows in order are the build's kept rows in input order; counts add
//                up; the first 1,000 skipped rows are the shards' lists joined
//   4. finish    split, pack, write and the manifest: the build's own steps 7–9 (Build.writeOutputs)
//
// Memory: 8 bytes of offset and 8 of length per row, as a build's second pass.

import Dispatch
import Foundation
import Tokenizer

extension Build {
    /// The tokenizer source recorded by a shard (where `--vocab` pointed), for loading the same
    /// tokenizer before `merge`.
    public static func shardTokenizerSource(_ folder: String) throws -> TokenizerSource? {
        TokenizerSource(json: try ShardInfo(folder: folder).json["tokenizer"]?["source"])
    }

    /// Merges shard folders into `outputDirectory`, byte-identical to one build over all inputs.
    /// - Parameter tokenizer: the shards' tokenizer (checked against their records).
    /// - Throws: `BuildError`; on any error no output file is left behind.
    public static func merge(shards folders: [String], tokenizer: Tokenizer, outputDirectory: String, overwrite: Bool = false,
                             threads: Int = ProcessInfo.processInfo.activeProcessorCount, log: (String) -> Void = { _ in },
                             progress: ((BuildProgress) -> Void)? = nil) throws -> BuildReport {
        guard !folders.isEmpty else { throw BuildError.usage("no shard folders to merge") }
        let shards = try checkedShards(folders.map(ShardInfo.init(folder:)), tokenizer: tokenizer)
        let first = shards[0]
        let path = (first.folder as NSString).appendingPathComponent("shard.json")
        guard let optionsJSON = first.json["options"] else { throw BuildError.input("\(path): no options") }
        var options = try BuildOptions(shardJSON: optionsJSON, path: path)
        options.threads = max(1, threads)
        options.overwrite = overwrite
        var report = BuildReport()
        let template = try recordedTemplate(first.json["template"], path: path, report: &report, options: &options, tokenizer: tokenizer)
        try validate(options)
        let settings = try resolveSettings(options, tokenizer: tokenizer, template: template, report: &report)

        // The inputs as the shards saw them.
        let inputs = first.json["inputs"]?.arrayValue ?? []
        let paths = inputs.compactMap { $0["path"]?.stringValue }
        let absolute = inputs.compactMap { $0["absolute"]?.stringValue }
        guard paths.count == inputs.count, absolute.count == inputs.count else { throw BuildError.input("\(path): inputs are incomplete") }
        for (k, input) in inputs.enumerated() {
            let now = try InputFileInfo.of(absolute[k])
            guard String(now.size) == input["size"].map({ $0.intValue.map(String.init) ?? "" }),
                  String(now.modified) == input["modified_ns"]?.stringValue else {
                throw BuildError.input("\(paths[k]): changed since the shards were built (size or modification time differs); build the shards again")
            }
        }

        let output = try OutputFolder(path: outputDirectory, overwrite: overwrite)
        do {
            // Hashes the shards computed (inputs one shard read whole); the merge hashes the rest.
            var known = [String](repeating: "", count: paths.count)
            for s in shards {
                for (k, v) in (s.json["sha256"]?.arrayValue ?? []).enumerated() where k < known.count {
                    if let h = v.stringValue { known[k] = h }
                }
            }
            let missing = known.indices.filter { known[$0].isEmpty }
            let hashing = InputHashes(missing.map { absolute[$0] }, threads: options.threads)
            let hashes = {
                var all = known
                for (k, h) in zip(missing, try hashing.wait()) { all[k] = h }
                return all
            }
            var spills: [SpillFile] = []
            var lengths: [Int] = []
            var rowsKept = [Int](repeating: 0, count: paths.count)
            for s in shards {
                let (spill, shardLengths) = try s.openRows()
                spills.append(spill)
                lengths += shardLengths
                add(s, to: &report, rowsKept: &rowsKept)
            }
            let written = try writeOutputs(.spilled(ShardRows(spills)), lengths: lengths,
                                           inputs: { zip(paths, zip(try hashes(), rowsKept)).map { ($0, $1.0, $1.1) } },
                                           report: report, options: options, settings: settings, template: template,
                                           tokenizer: tokenizer, output: output, progress: progress)
            try output.commit()
            return written
        } catch {
            output.discard()
            throw error
        }
    }

    /// The shards in order, after every check that they make one build.
    static func checkedShards(_ shards: [ShardInfo], tokenizer: Tokenizer) throws -> [ShardInfo] {
        let first = shards[0]
        let n = first.spec.count
        func differs(_ key: String, _ s: ShardInfo) -> Bool { s.json[key] != first.json[key] }
        for s in shards {
            if s.json["finetok_version"] != first.json["finetok_version"] {
                throw BuildError.input("\(s.folder) was built by finetok \(s.json["finetok_version"]?.stringValue ?? "?"), \(first.folder) by \(first.json["finetok_version"]?.stringValue ?? "?"); build every shard with one version")
            }
            if s.spec.count != n {
                throw BuildError.input("\(s.folder) is shard \(s.spec) but \(first.folder) is shard \(first.spec): they come from different --shard counts")
            }
            if differs("inputs", s) {
                throw BuildError.input("\(s.folder) and \(first.folder) were built from different inputs (paths, sizes or modification times differ)")
            }
            if differs("tokenizer", s) {
                throw BuildError.input("\(s.folder) and \(first.folder) were built with different tokenizers")
            }
            if let a = first.json["options"]?.objectValue, let b = s.json["options"]?.objectValue {
                for (key, value) in a where b.last(where: { $0.0 == key })?.1 != value {
                    throw BuildError.input("\(s.folder) and \(first.folder) were built with different settings: \(key) is \(render(b.last(where: { $0.0 == key })?.1)) in one and \(render(value)) in the other")
                }
            }
            if differs("options", s) || differs("template", s) {
                throw BuildError.input("\(s.folder) and \(first.folder) were built with different settings or templates")
            }
        }
        var byIndex: [Int: ShardInfo] = [:]
        for s in shards {
            if let other = byIndex[s.spec.index] {
                throw BuildError.usage("shard \(s.spec) is given twice: \(other.folder) and \(s.folder)")
            }
            byIndex[s.spec.index] = s
        }
        let missing = (1...n).filter { byIndex[$0] == nil }
        if !missing.isEmpty {
            let list = missing.prefix(10).map { "\($0)/\(n)" }.joined(separator: ", ") + (missing.count > 10 ? ", ..." : "")
            throw BuildError.usage("\(missing.count) of \(n) shards missing: \(list); merge needs every shard")
        }
        let ordered = (1...n).compactMap { byIndex[$0] }
        var at = 0
        for s in ordered {
            guard s.range.lowerBound == at, s.total == first.total else {
                throw BuildError.input("\(s.folder): its byte range \(s.range) does not continue the previous shard's (which ends at \(at)); the shards do not belong together")
            }
            at = s.range.upperBound
        }
        guard at == first.total else { throw BuildError.input("the shards cover \(at) of the inputs' \(first.total) bytes") }

        // The tokenizer given is the shards' one.
        let recorded = first.json["tokenizer"]
        let now = try? JSON.parse(ShardFolder.tokenizerIdentity(tokenizer, source: nil).render())
        for key in ["format", "vocab_size", "files"] where now?[key] != recorded?[key] {
            throw BuildError.usage("the tokenizer given is not the one the shards were built with (its \(key == "files" ? "files or their SHA-256" : key.replacingOccurrences(of: "_", with: " ")) differ)")
        }
        return ordered
    }

    static func render(_ v: JSONValue?) -> String {
        switch v {
        case nil, .null?: return "unset"
        case .string(let s)?: return s
        case .bool(let b)?: return b ? "on" : "off"
        case let .number(d, isInteger)?: return isInteger ? String(Int(d)) : "\(d)"
        case .array(let a)?: return a.map { render($0) }.joined(separator: ",")
        case .object?: return "an object"
        }
    }

    /// The template a shard resolved (detected or given), rebuilt.
    static func recordedTemplate(_ j: JSONValue?, path: String, report: inout BuildReport, options: inout BuildOptions,
                                 tokenizer: Tokenizer) throws -> TemplateChoice {
        guard let j, let name = j["name"]?.stringValue, let source = j["source"]?.stringValue else {
            throw BuildError.input("\(path): the template is missing")
        }
        report.templateName = name
        report.templateDetected = j["detected"]?.boolValue ?? false
        if j["chat"]?.boolValue == true {
            // The chat template as the shards compiled it; the clock the shards recorded.
            options.chat.template = .text(source, path: name)
            let epoch = j["source_date_epoch"]?.intValue.map(Int64.init)
            return TemplateChoice(chat: try ChatSetup(options.chat, tokenizer: tokenizer, sourceDateEpoch: epoch, name: name))
        }
        if let preset = j["preset"]?.stringValue.flatMap(TemplatePreset.init(rawValue:)) {
            options.template = .preset(preset)
            return TemplateChoice(preset: preset)
        }
        do {
            let t = try Template(source)
            options.template = .custom(t, name: name)
            return TemplateChoice(custom: t, name: name)
        } catch {
            throw BuildError.input("\(path): the recorded template does not parse: \(error)")
        }
    }

    /// Adds a shard's counts to the merged report.
    static func add(_ s: ShardInfo, to r: inout BuildReport, rowsKept: inout [Int]) {
        let c = s.json["counts"]
        func n(_ key: String) -> Int { c?[key]?.intValue ?? 0 }
        r.rowsRead += n("rows_read")
        r.blankLines += n("blank_lines")
        r.skippedCount += n("skipped_invalid")
        r.truncated += n("truncated")
        r.tokensCut += n("tokens_cut")
        r.droppedTooLong += n("dropped_too_long")
        r.droppedNoLabels += n("dropped_no_labels")
        r.boundaryDifferences += n("boundary_differences")
        r.inputBytes += n("input_bytes")
        r.chatSpecialsInData += n("chat_specials_in_data")
        for (rule, count) in c?["chat_span_rules"]?.objectValue ?? [] { r.chatSpanRules[rule, default: 0] += count.intValue ?? 0 }
        for (k, v) in (s.json["rows_kept"]?.arrayValue ?? []).enumerated() where k < rowsKept.count {
            rowsKept[k] += v.intValue ?? 0
        }
        for row in s.json["skipped_rows"]?.arrayValue ?? [] where r.skipped.count < 1000 {
            r.skipped.append(SkippedRow(path: row["path"]?.stringValue ?? "", line: row["line"]?.intValue ?? 0,
                                        reason: row["reason"]?.stringValue ?? ""))
        }
    }
}

/// The SHA-256 of several files, computed on background threads (at most `threads` at once).
final class InputHashes: @unchecked Sendable {
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var digests: [String]
    private var failure: String?

    init(_ paths: [String], threads: Int) {
        digests = [String](repeating: "", count: paths.count)
        let gate = DispatchSemaphore(value: max(1, threads))
        for (k, path) in paths.enumerated() {
            group.enter()
            DispatchQueue.global().async {
                gate.wait()
                defer { gate.signal(); self.group.leave() }
                var sha = SHA256()
                do {
                    try LineReader.forEachBlock(path: path, onRaw: { sha.update($0) }) { _ in }
                    let hex = sha.hexDigest()
                    self.lock.withLock { self.digests[k] = hex }
                } catch {
                    self.lock.withLock { self.failure = "\(error)" }
                }
            }
        }
    }

    /// Waits for every digest.
    func wait() throws -> [String] {
        group.wait()
        return try lock.withLock {
            if let failure { throw BuildError.input(failure) }
            return digests
        }
    }
}

// A shard folder: what `build --shard K/N` leaves for `finetok merge` — pass 1's result for its
// part of the input, and everything needed to check that shards belong together.
//
//   rows.bin     the kept rows, in input order, in the spill format (SpillFile)
//   rows.idx     (rows + 1) × u64 row offsets in rows.bin, then rows × u32 row lengths
//   shard.json   K/N; the byte range read; every input's path, size and modification time; the
//                tokenizer (where it was loaded from, its files' SHA-256); every option that
//                changes the output; the resolved template; the counts and skipped rows
//
// A shard hashes the inputs it reads whole (beside encoding, as a build does); a file split between
// shards is hashed by the merge, which reads it once more for that, beside writing the outputs.
// With many input files (C4 comes as 1,024) that is at most N − 1 of them.

import Foundation
import Tokenizer

/// Where a tokenizer was loaded from (`--vocab` and the loading options), so `finetok merge`
/// can load the same one.
public struct TokenizerSource: Sendable, Equatable {
    public var path: String
    public var encoding: String?
    public var pattern: String?
    public var allowSpecial: Bool

    public init(path: String, encoding: String? = nil, pattern: String? = nil, allowSpecial: Bool = false) {
        self.path = path
        self.encoding = encoding
        self.pattern = pattern
        self.allowSpecial = allowSpecial
    }

    /// Loads the tokenizer.
    /// - Throws: `TokenizerError` as `Tokenizer.load` does.
    public func load() throws -> Tokenizer {
        var o = LoadOptions()
        o.encoding = encoding
        o.pattern = pattern.flatMap(SplitPattern.init(name:))
        o.allowSpecial = allowSpecial
        return try Tokenizer.load(path, options: o)
    }

    var json: JSONOut {
        .object([("path", .string(path)), ("encoding", encoding.map { .string($0) } ?? .null),
                 ("pattern", pattern.map { .string($0) } ?? .null), ("allow_special", .bool(allowSpecial))])
    }

    init?(json: JSONValue?) {
        guard let json, let path = json["path"]?.stringValue else { return nil }
        self.init(path: path, encoding: json["encoding"]?.stringValue, pattern: json["pattern"]?.stringValue,
                  allowSpecial: json["allow_special"]?.boolValue ?? false)
    }
}

enum ShardFolder {
    static let formatVersion = 1
    static let files = ["shard.json", "rows.bin", "rows.idx"]

    /// Writes the shard folder's files into the build's temporary folder (the spill is already there).
    static func write(_ output: OutputFolder, shard: ShardSpec, spill: SpillFile, lengths: [Int], rowsKept: [Int], hashes: [String],
                      plan: InputPlan, report: BuildReport, options: BuildOptions, template: TemplateChoice,
                      tokenizer: Tokenizer) throws {
        do {
            let idx = try OutputFile(path: output.temporaryPath("rows.idx"))
            try idx.write(littleEndian: (spill.offsets + [spill.position]).map { UInt64($0) })
            try idx.write(littleEndian: lengths.map { UInt32($0) })
            try idx.close()
            let range = report.shardRange ?? 0..<0
            let doc: JSONOut = .object([
                ("finetok_shard", .int(formatVersion)),
                ("finetok_version", .string(finetokVersion)),
                ("shard", .object([("index", .int(shard.index)), ("count", .int(shard.count))])),
                ("range", .object([("start", .int(range.lowerBound)), ("end", .int(range.upperBound)),
                                   ("total", .int(plan.files.reduce(0) { $0 + $1.size }))])),
                ("inputs", .array(plan.files.map { f in
                    .object([("path", .string(f.path)), ("absolute", .string(absolutePath(f.path))), ("size", .int(f.size)),
                             ("modified_ns", .string(String(f.modified)))])
                })),
                // The SHA-256 of each input this shard read whole (else null).
                ("sha256", .array(hashes.map { $0.isEmpty ? .null : .string($0) })),
                ("tokenizer", tokenizerIdentity(tokenizer, source: options.tokenizerSource)),
                ("options", options.shardJSON),
                ("template", .object([("name", .string(report.templateName)), ("detected", .bool(report.templateDetected)),
                                      ("preset", template.chat == nil ? TemplatePreset(rawValue: template.name).map { .string($0.rawValue) } ?? .null : .null),
                                      ("source", .string(template.sources[0])),
                                      ("chat", .bool(template.chat != nil)),
                                      ("source_date_epoch", template.chat?.sourceDateEpoch.map { .int(Int($0)) } ?? .null)])),
                ("rows", .int(lengths.count)),
                ("rows_kept", .array(rowsKept.map { .int($0) })),
                ("counts", .object([
                    ("rows_read", .int(report.rowsRead)), ("blank_lines", .int(report.blankLines)),
                    ("skipped_invalid", .int(report.skippedCount)), ("truncated", .int(report.truncated)),
                    ("tokens_cut", .int(report.tokensCut)), ("dropped_too_long", .int(report.droppedTooLong)),
                    ("dropped_no_labels", .int(report.droppedNoLabels)), ("boundary_differences", .int(report.boundaryDifferences)),
                    ("input_bytes", .int(report.inputBytes)),
                    ("chat_specials_in_data", .int(report.chatSpecialsInData)),
                    ("chat_span_rules", .object(report.chatSpanRules.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                ])),
                ("skipped_rows", .array(report.skipped.map { .object([("path", .string($0.path)), ("line", .int($0.line)), ("reason", .string($0.reason))]) })),
            ])
            let f = try OutputFile(path: output.temporaryPath("shard.json"))
            try f.write(doc.render() + "\n")
            try f.close()
        } catch {
            throw BuildError.output(error.description)
        }
    }

    /// The tokenizer as shards compare it: where it came from, its files and their SHA-256.
    static func tokenizerIdentity(_ t: Tokenizer, source: TokenizerSource?) -> JSONOut {
        .object([("source", source?.json ?? .null), ("format", .string(t.format.rawValue)), ("vocab_size", .int(t.vocabularySize)),
                 ("files", .array(t.paths.map { .object([("path", .string($0)), ("sha256", .string(Manifest.fileHash($0)))]) }))])
    }

    static func absolutePath(_ path: String) -> String {
        path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }
}

/// A shard folder read back by `finetok merge`.
struct ShardInfo {
    let folder: String
    let json: JSONValue
    let spec: ShardSpec
    let range: Range<Int>
    let total: Int
    let rows: Int

    init(folder: String) throws {
        self.folder = folder
        let path = (folder as NSString).appendingPathComponent("shard.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: folder, isDirectory: &isDir)
            throw BuildError.input("\(folder): \(exists && isDir.boolValue ? "not a finetok shard folder (no shard.json; a shard folder is what `finetok build --shard K/N --out DIR` writes)" : "no such folder")")
        }
        do { json = try JSON.parse([UInt8](data)) } catch {
            throw BuildError.input("\(path): malformed JSON at byte \(error.offset): \(error.message)")
        }
        func int(_ v: JSONValue?, _ what: String) throws -> Int {
            guard let i = v?.intValue else { throw BuildError.input("\(path): \(what) is missing or not a whole number") }
            return i
        }
        guard try int(json["finetok_shard"], "finetok_shard") == ShardFolder.formatVersion else {
            throw BuildError.input("\(path): shard format \(json["finetok_shard"]?.intValue ?? 0) is not the one this finetok reads (\(ShardFolder.formatVersion)); build the shards again with this version")
        }
        spec = ShardSpec(index: try int(json["shard"]?["index"], "shard.index"), count: try int(json["shard"]?["count"], "shard.count"))
        let start = try int(json["range"]?["start"], "range.start"), end = try int(json["range"]?["end"], "range.end")
        guard 0 <= start, start <= end else { throw BuildError.input("\(path): range \(start)..<\(end) is not a byte range") }
        range = start..<end
        total = try int(json["range"]?["total"], "range.total")
        rows = try int(json["rows"], "rows")
    }

    /// rows.bin opened for reading, and the rows' lengths, checked against rows.idx.
    func openRows() throws -> (SpillFile, [Int]) {
        let idxPath = (folder as NSString).appendingPathComponent("rows.idx")
        let binPath = (folder as NSString).appendingPathComponent("rows.bin")
        guard let data = FileManager.default.contents(atPath: idxPath) else {
            throw BuildError.input("\(idxPath): missing (the shard folder is incomplete; build this shard again)")
        }
        guard data.count == (rows + 1) * 8 + rows * 4 else {
            throw BuildError.input("\(idxPath): \(data.count) bytes, expected \((rows + 1) * 8 + rows * 4) for \(rows) rows (the shard folder is damaged; build this shard again)")
        }
        var offsets = [Int](repeating: 0, count: rows + 1)
        var lengths = [Int](repeating: 0, count: rows)
        data.withUnsafeBytes { raw in
            for i in 0...rows { offsets[i] = Int(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))) }
            let base = 8 * (rows + 1)
            for i in 0..<rows { lengths[i] = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self))) }
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: binPath)[.size] as? Int) ?? -1
        guard size == offsets[rows] else {
            throw BuildError.input("\(binPath): \(size < 0 ? "missing" : "\(size) bytes, expected \(offsets[rows])") (the shard folder is damaged; build this shard again)")
        }
        for i in 0..<rows {
            let extra = offsets[i + 1] - offsets[i] - 8 - 4 * lengths[i]
            if (i == 0 && offsets[0] != 0) || extra < 0 || extra % 8 != 0 {
                throw BuildError.input("\(idxPath): row \(i) does not match rows.bin (the shard folder is damaged; build this shard again)")
            }
        }
        return (SpillFile(finished: binPath, offsets: Array(offsets[0..<rows]), size: offsets[rows]), lengths)
    }
}

extension BuildOptions {
    /// Every option that changes a build's files, as shards record and compare them.
    var shardJSON: JSONOut {
        func optInt(_ v: Int?) -> JSONOut { v.map { .int($0) } ?? .null }
        return .object([
            ("joint", .bool(encoding.joint)),
            ("train_on_prompt", .bool(encoding.trainOnPrompt)),
            ("compare_modes", .bool(encoding.compareModes)),
            ("max_length", optInt(encoding.maxLength)),
            ("truncation", .string(encoding.truncation.rawValue)),
            ("append_eos", .bool(appendEOS)),
            ("eos_token", eosToken.map { .string($0) } ?? .null),
            ("padding", .string(padding.rawValue)),
            ("pad_to_multiple_of", optInt(padToMultipleOf)),
            ("padding_side", .string(paddingSide.rawValue)),
            ("pad_id", padId.map { .int(Int($0)) } ?? .null),
            ("test_size", .double(testSize)),
            ("seed", .string(String(seed))),
            ("formats", .array(formats.map { .string($0.rawValue) })),
            ("dtype", .string(dtype.rawValue)),
            ("skip_invalid", .bool(skipInvalid)),
            ("pack", optInt(pack)),
            ("packing", .string(packing.rawValue)),
            ("documents", .string(documents.rawValue)),
            ("chat_append_eos", .bool(chat.appendEOS)),
            ("chat_train_on", .string(chat.trainOn.rawValue)),
            ("chat_content_specials", .string(chat.contentSpecials.rawValue)),
            ("chat_kwargs", .object(chat.kwargs.map { ($0.0, JSONOut($0.1)) })),
        ])
    }

    /// The options a shard recorded (the template is set by the caller).
    init(shardJSON j: JSONValue, path: String) throws {
        self.init()
        func bad(_ key: String) -> BuildError { BuildError.input("\(path): options.\(key) is missing or invalid") }
        func bool(_ k: String) throws -> Bool { guard let b = j[k]?.boolValue else { throw bad(k) }; return b }
        func optInt(_ k: String) throws -> Int? {
            guard let v = j[k] else { throw bad(k) }
            if v.isNull { return nil }
            guard let i = v.intValue else { throw bad(k) }
            return i
        }
        func choice<T: RawRepresentable>(_ k: String, _ type: T.Type) throws -> T where T.RawValue == String {
            guard let s = j[k]?.stringValue, let v = T(rawValue: s) else { throw bad(k) }
            return v
        }
        encoding.joint = try bool("joint")
        encoding.trainOnPrompt = try bool("train_on_prompt")
        encoding.compareModes = try bool("compare_modes")
        encoding.maxLength = try optInt("max_length")
        encoding.truncation = try choice("truncation", Truncation.self)
        appendEOS = try bool("append_eos")
        eosToken = j["eos_token"]?.stringValue
        padding = try choice("padding", Padding.self)
        padToMultipleOf = try optInt("pad_to_multiple_of")
        paddingSide = try choice("padding_side", PaddingSide.self)
        padId = try optInt("pad_id").map { UInt32(clamping: $0) }
        guard case .number(let t, _)? = j["test_size"] else { throw bad("test_size") }
        testSize = t
        guard let seedText = j["seed"]?.stringValue, let s = UInt64(seedText) else { throw bad("seed") }
        seed = s
        guard let names = j["formats"]?.arrayValue else { throw bad("formats") }
        formats = try names.map { v in
            guard let s = v.stringValue, let f = OutputFormat(rawValue: s) else { throw bad("formats") }
            return f
        }
        dtype = try choice("dtype", OutputDType.self)
        skipInvalid = try bool("skip_invalid")
        pack = try optInt("pack")
        packing = try choice("packing", PackingStrategy.self)
        documents = try choice("documents", DocumentSplit.self)
        chat.appendEOS = try bool("chat_append_eos")
        chat.trainOn = try choice("chat_train_on", TrainOn.self)
        chat.contentSpecials = try choice("chat_content_specials", ContentSpecials.self)
        guard let kwargs = j["chat_kwargs"]?.objectValue else { throw bad("chat_kwargs") }
        chat.kwargs = kwargs
    }
}

/// SHA-256 of tokenizer files, computed once per process for a file of a given size and
/// modification time (a shard records them, a merge checks them and writes them again).
final class FileHashCache: @unchecked Sendable {
    static let shared = FileHashCache()
    private let lock = NSLock()
    private var digests: [String: String] = [:]

    func hash(_ path: String, _ compute: () -> String) -> String {
        guard let info = try? InputFileInfo.of(path) else { return compute() }
        let key = "\(info.size):\(info.modified):\(path)"
        if let d = lock.withLock({ digests[key] }) { return d }
        let d = compute()
        lock.withLock { digests[key] = d }
        return d
    }
}

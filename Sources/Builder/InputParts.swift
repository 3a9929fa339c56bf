// What pass 1 reads: every input whole, or — with `--shard K/N` — the K-th of N consecutive parts
// of all inputs taken together.
//
// Shards are cut by bytes: the inputs are laid end to end (B bytes), shard K nominally covers
// [B(K-1)/N, BK/N), and each nominal cut moves forward to the next unit boundary of the file it
// falls in, so every line (JSONL, `--docs lines`) or document (`--docs blank-lines`, `whole`)
// belongs to exactly one shard: the one whose range holds its first byte. A shard finds its two
// cuts by reading a few bytes around them (one line or newline run), never the rest of the input.
// Boundaries:
//   lines        offset 0, or just after a "\n"
//   blank-lines  offset 0, or just after the last "\n\n" pair of a run of newlines (Python's
//                split("\n\n") pairs a run from its start, so an odd run leaves its last "\n" to
//                the next document)
//   whole        offset 0 (a file is one document)
// Line numbers in a part count from its start; `InputPart.line` turns them into the file's line
// numbers by counting the newlines before the part, only when one is needed (an error, a skipped
// row).

import Foundation
import Tokenizer

/// `--shard K/N`: which of N shards (K from 1).
public struct ShardSpec: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }

    /// Parses `K/N` with 1 ≤ K ≤ N.
    public static func parse(_ text: String) throws -> ShardSpec {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw BuildError.usage("--shard expects K/N (this is shard K of N, 1 ≤ K ≤ N) or auto; got \"\(text)\"")
        }
        guard n >= 1, k >= 1, k <= n else {
            throw BuildError.usage("--shard \(text): need 1 ≤ K ≤ N (shards are numbered from 1)")
        }
        guard n <= 1 << 20 else { throw BuildError.usage("--shard \(text): at most \(1 << 20) shards") }
        return ShardSpec(index: k, count: n)
    }

    /// `--shard auto`: a Slurm job array (`SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT`, or
    /// `SLURM_ARRAY_TASK_MIN`/`MAX`) or a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, from 0,
    /// with `shards` = the job's completions). `shards`, when given, must agree with Slurm's count.
    public static func fromEnvironment(_ env: [String: String], shards: Int?) throws -> ShardSpec {
        func int(_ name: String) throws -> Int? {
            guard let v = env[name], !v.isEmpty else { return nil }
            guard let i = Int(v.trimmingCharacters(in: .whitespaces)) else {
                throw BuildError.usage("--shard auto: \(name)=\"\(v)\" is not a whole number")
            }
            return i
        }
        if let task = try int("SLURM_ARRAY_TASK_ID") {
            let lo = try int("SLURM_ARRAY_TASK_MIN") ?? 0
            let hi = try int("SLURM_ARRAY_TASK_MAX")
            let count = try int("SLURM_ARRAY_TASK_COUNT") ?? hi.map { $0 - lo + 1 }
            guard let n = count else {
                throw BuildError.usage("--shard auto: SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX is; pass --shard K/N")
            }
            if let hi, hi - lo + 1 != n {
                throw BuildError.usage("--shard auto: the Slurm array \(lo)-\(hi) has \(n) tasks, so its ids are not consecutive; use a plain range (sbatch --array=0-\(n - 1)) or pass --shard K/N")
            }
            if let shards, shards != n {
                throw BuildError.usage("--shard auto: --shards \(shards) disagrees with the Slurm array's \(n) tasks")
            }
            return try parse("\(task - lo + 1)/\(n)")
        }
        if let index = try int("JOB_COMPLETION_INDEX") {
            guard let n = shards else {
                throw BuildError.usage("--shard auto in a Kubernetes Indexed Job needs --shards N (the job's completions)")
            }
            return try parse("\(index + 1)/\(n)")
        }
        throw BuildError.usage("--shard auto: no SLURM_ARRAY_TASK_ID (Slurm job array) or JOB_COMPLETION_INDEX (Kubernetes Indexed Job) in the environment; pass --shard K/N")
    }
}

/// An input file, or the part of it one shard reads.
final class InputPart {
    let path: String
    /// Its position in the build's inputs.
    let fileIndex: Int
    /// The bytes to read; nil for all of it.
    let range: Range<Int>?
    /// A `.txt` corpus, cut into documents (else JSONL rows).
    let isText: Bool
    let isWholeFile: Bool
    private var newlinesBefore: Int?

    init(path: String, fileIndex: Int, range: Range<Int>?, fileSize: Int?) {
        self.path = path
        self.fileIndex = fileIndex
        self.range = range
        isText = InputPart.isText(path)
        isWholeFile = range == nil || (range?.lowerBound == 0 && range?.upperBound == fileSize)
    }

    /// Inputs other than `.jsonl` / `.json` are text corpora.
    static func isText(_ path: String) -> Bool { Lengths.isPlainTextFile(path) }

    /// The file's line number of this part's line `local` (counting from 1).
    func line(_ local: Int) throws -> Int {
        guard let start = range?.lowerBound, start > 0 else { return local }
        if newlinesBefore == nil {
            var n = 0
            try LineReader.forEachBlock(path: path, range: 0..<start) { block in
                block.withUnsafeBytes { raw in
                    let buf = raw.bindMemory(to: UInt8.self)
                    n += Documents.newlineCount(buf, 0..<buf.count)
                }
            }
            newlinesBefore = n
        }
        return local + (newlinesBefore ?? 0)
    }
}

/// stat(2) (follows symbolic links).
private func statFile(_ path: String, _ st: inout stat) -> Int32 { stat(path, &st) }

/// One input's identity, recorded by shards to check at merge time that nothing changed.
struct InputFileInfo: Equatable {
    var path: String
    var size: Int
    /// Modification time in nanoseconds since 1970.
    var modified: Int64

    static func of(_ path: String) throws -> InputFileInfo {
        var st = stat()
        guard statFile(path, &st) == 0 else {
            throw BuildError.input("\(path): cannot read the file's size: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw BuildError.input("\(path): not a regular file (a shard reads a byte range of each input; standard input and pipes cannot be sharded)")
        }
        return InputFileInfo(path: path, size: Int(st.st_size), modified: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }
}

/// The parts pass 1 reads.
struct InputPlan {
    var parts: [InputPart] = []
    /// With a shard: its global byte range, and every input's size and time.
    var shardRange: Range<Int>?
    var files: [InputFileInfo] = []
    /// The bytes to read (for progress).
    var byteCount = 0

    init(inputs: [String], shard: ShardSpec?, documents: DocumentSplit) throws {
        guard let shard else {
            for (i, path) in inputs.enumerated() {
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                byteCount += size
                parts.append(InputPart(path: path, fileIndex: i, range: nil, fileSize: size))
            }
            return
        }
        files = try inputs.map(InputFileInfo.of)
        var starts: [Int] = []
        var total = 0
        for f in files {
            starts.append(total)
            total += f.size
        }
        let cuts = try (shard.index - 1...shard.index).map { k -> Int in
            let nominal = total / shard.count * k + total % shard.count * k / shard.count
            return try InputPlan.cut(nominal, files: files, starts: starts, documents: documents)
        }
        let range = cuts[0]..<max(cuts[0], cuts[1])
        shardRange = range
        byteCount = range.count
        for (i, f) in files.enumerated() {
            let lo = max(range.lowerBound, starts[i]), hi = min(range.upperBound, starts[i] + f.size)
            if lo < hi {
                parts.append(InputPart(path: f.path, fileIndex: i, range: (lo - starts[i])..<(hi - starts[i]), fileSize: f.size))
            }
        }
    }

    /// The first unit boundary at or after the global offset `g` (see the top of the file).
    static func cut(_ g: Int, files: [InputFileInfo], starts: [Int], documents: DocumentSplit) throws -> Int {
        for (i, f) in files.enumerated() where starts[i] <= g && g < starts[i] + f.size {
            let local = g - starts[i]
            let isText = InputPart.isText(f.path)
            var bytes = FileBytes(f.path, size: f.size)
            let boundary = try bytes.boundary(atOrAfter: local, documents: isText ? documents : .lines)
            return starts[i] + boundary
        }
        return starts.last.map { $0 + (files.last?.size ?? 0) } ?? 0
    }
}

/// Random access to a file's bytes through a small page cache, to find unit boundaries.
struct FileBytes {
    let path: String
    let size: Int
    private var page: [UInt8] = []
    private var pageStart = -1
    private static let pageSize = 1 << 16

    init(_ path: String, size: Int) {
        self.path = path
        self.size = size
    }

    mutating func byte(_ i: Int) throws -> UInt8 {
        if pageStart < 0 || i < pageStart || i >= pageStart + page.count {
            pageStart = i / FileBytes.pageSize * FileBytes.pageSize
            page = []
            // The raw view: the file's own bytes, a byte-order mark included.
            try LineReader.forEachBlock(path: path, range: pageStart..<min(pageStart + FileBytes.pageSize, size),
                                        onRaw: { page.append(contentsOf: $0) }) { _ in }
            guard i - pageStart < page.count else {
                throw InputFileError(path: path, message: "the file is shorter than its recorded size (changed while reading?)")
            }
        }
        return page[i - pageStart]
    }

    /// The first boundary ≥ `offset` of units split as `documents` (`.lines` for JSONL).
    mutating func boundary(atOrAfter offset: Int, documents: DocumentSplit) throws -> Int {
        if offset <= 0 { return 0 }
        switch documents {
        case .whole:
            return size
        case .lines:
            var i = offset
            if try byte(i - 1) == 0x0A { return i }
            while i < size {
                if try byte(i) == 0x0A { return i + 1 }
                i += 1
            }
            return size
        case .blankLines:
            // Back to the start of the newline run holding offset - 1, then forward run by run.
            var i = offset
            while i > 0, try byte(i - 1) == 0x0A { i -= 1 }
            while i < size {
                if try byte(i) != 0x0A { i += 1; continue }
                var run = 0
                while i + run < size, try byte(i + run) == 0x0A { run += 1 }
                let end = i + run / 2 * 2
                if run >= 2 && end >= offset { return end }
                i += run
            }
            return size
        }
    }
}

extension ExampleEncoder {
    /// One document of a `.txt` corpus: all of it trained on, EOS appended — exactly the `text`
    /// template's row for the same text.
    func processDocument(_ doc: UnsafeBufferPointer<UInt8>) -> RowOutcome {
        var ids = takeSpareIds()
        defer { spareIds = ids }
        ids.reserveCapacity(doc.count / 3 + 8)   // English runs ~4 bytes a token: one allocation, not six
        if let contexts = longTextContexts(doc.count) {
            if let bad = firstInvalidUTF8(doc) { return .invalid(.invalidUTF8(offset: bad)) }
            LongText.encode(doc, tokenizer: tokenizer, contexts: contexts, into: &ids)
        } else if let bad = tokenizer.encode(strictUTF8: doc, into: &ids, context: context) {
            return .invalid(.invalidUTF8(offset: bad))
        }
        if let eos = settings.eosId { ids.append(eos) }
        return finish(ids: ids, labels: .suffix(from: 0, count: ids.count), differs: false)
    }
}

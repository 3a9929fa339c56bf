// Documents for throughput measurement and length statistics: a text file split on blank lines
// (exactly Python's `text.split("\n\n")`, dropping empty documents, as the anchor benchmark does),
// on lines, or whole; or a JSONL file's text field.

import Dispatch
import Foundation
import Tokenizer

/// How a text file is cut into documents.
public enum DocumentSplit: String, Sendable, CaseIterable {
    case blankLines = "blank-lines"
    case lines
    case whole
}

/// Documents held in one byte buffer, valid UTF-8 (checked, or repaired, where they are made, so
/// that `ParallelEncoder` encodes them without a second check).
public struct Documents: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var ranges: [Range<Int>] = []

    public init() {}

    public var count: Int { ranges.count }
    public var byteCount: Int { ranges.reduce(0) { $0 + $1.count } }

    mutating func append(_ doc: String.UTF8View) {
        let start = bytes.count
        bytes.append(contentsOf: doc)
        ranges.append(start..<bytes.count)
    }

    /// Splits text as `split`, dropping empty documents. Ill-formed UTF-8 is repaired first as
    /// `Tokenizer.encode(utf8:)` repairs it (each bad sequence → U+FFFD; a document break is
    /// ASCII, so no bad sequence spans one).
    public static func fromText(_ text: [UInt8], split: DocumentSplit) -> Documents {
        let valid = text.withUnsafeBufferPointer { firstInvalidUTF8($0) } == nil
        return fromValidText(valid ? text : Array(String(decoding: text, as: UTF8.self).utf8), split: split)
    }

    /// `fromText` of text already checked.
    private static func fromValidText(_ text: [UInt8], split: DocumentSplit) -> Documents {
        var d = Documents()
        d.bytes = text
        switch split {
        case .whole:
            if !text.isEmpty { d.ranges = [0..<text.count] }
        case .lines:
            var start = 0
            for (i, b) in text.enumerated() where b == 0x0A {
                if i > start { d.ranges.append(start..<i) }
                start = i + 1
            }
            if start < text.count { d.ranges.append(start..<text.count) }
        case .blankLines:
            // Python's str.split("\n\n"): non-overlapping, left to right.
            var start = 0
            var i = 0
            while i + 1 < text.count {
                if text[i] == 0x0A && text[i + 1] == 0x0A {
                    if i > start { d.ranges.append(start..<i) }
                    i += 2
                    start = i
                } else {
                    i += 1
                }
            }
            if start < text.count { d.ranges.append(start..<text.count) }
        }
        return d
    }

    /// Reads a file: `.jsonl` → each row's `field`; anything else → `fromText`.
    public static func load(path: String, split: DocumentSplit, field: String = "text") throws -> Documents {
        if path.hasSuffix(".jsonl") {
            var d = Documents()
            // A row's text is never longer than its line: one allocation of the file's size
            // instead of a doubling array, whose old and new buffers were live at once beside
            // the longest row's line, parse and String (the peak memory of `finetok bench`).
            // Up to 1 GiB: a larger file (other fields, long rows) grows the array as before.
            if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int {
                d.bytes.reserveCapacity(min(size, 1 << 30))
            }
            try LineReader.forEachLine(path: path) { number, line in
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
                let row = try parseJSONLine(line, path: path, line: number)
                guard let v = row.last(where: { $0.0 == field })?.1 else {
                    throw InputFileError(path: path, line: number, message: "the row has no \"\(field)\" field (choose one with --field)")
                }
                guard case .string(let s) = v else {
                    throw InputFileError(path: path, line: number, message: "field \"\(field)\" is \(v.typeDescription), expected a string")
                }
                d.append(s.utf8)
            }
            return d
        }
        let bytes = try LineReader.readAll(path: path)
        guard bytes.withUnsafeBufferPointer({ firstInvalidUTF8($0) }) == nil else {
            throw InputFileError(path: path, message: "not valid UTF-8 text")
        }
        return fromValidText(bytes, split: split)
    }
}

extension Documents {
    /// Streams the documents of a text file: `body(firstLine, bytes)` for each non-empty document,
    /// split as `fromText` splits. With `range` (a shard's part, which starts and ends at document
    /// boundaries), only those bytes are read and line numbers count from the range's start.
    /// Memory holds one block and the longest document (`whole`: the file).
    /// - Complexity: O(bytes); the blank-line split looks at each byte once (memchr for newlines).
    public static func forEachDocument(path: String, split: DocumentSplit, range: Range<Int>? = nil,
                                       onBlock: (Data) -> Void = { _ in },
                                       _ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        switch split {
        case .lines:
            try withoutActuallyEscaping(onBlock) { onBlock in
                try LineReader.forEachLine(path: path, range: range, onBlock: onBlock) { number, line in
                    if !line.isEmpty { try body(number, line) }
                }
            }
        case .whole:
            var bytes: [UInt8] = []
            try LineReader.forEachBlock(path: path, range: range, onRaw: onBlock) { bytes.append(contentsOf: $0) }
            if !bytes.isEmpty { try bytes.withUnsafeBufferPointer { try body(1, $0) } }
        case .blankLines:
            // Python's split("\n\n") over the stream: the leftmost "\n\n" ends a document and is
            // consumed, so "\n\n\n" leaves "\n" at the start of the next one.
            var pending: [UInt8] = []
            var line = 1          // the line number of pending[0]
            var resume = 0        // where the search for the next separator continues
            func scan(final: Bool) throws {
                var start = 0
                try pending.withUnsafeBufferPointer { buf in
                    var search = resume
                    while true {
                        guard let nl = LineReader.nextNewline(buf, from: search) else { search = buf.count; break }
                        guard nl + 1 < buf.count else { search = nl; break }   // wait for the next byte
                        guard buf[nl + 1] == 0x0A else { search = nl + 1; continue }
                        if nl > start { try body(line, UnsafeBufferPointer(rebasing: buf[start..<nl])) }
                        line += newlineCount(buf, start..<nl) + 2
                        start = nl + 2
                        search = start
                    }
                    resume = max(search, start)
                    if final && start < buf.count {
                        try body(line, UnsafeBufferPointer(rebasing: buf[start...]))
                        start = buf.count
                    }
                }
                pending.removeFirst(start)
                resume -= start
            }
            try LineReader.forEachBlock(path: path, range: range, onRaw: onBlock) { chunk in
                pending.append(contentsOf: chunk)
                try scan(final: false)
            }
            try scan(final: true)
        }
    }

    /// The number of "\n" bytes of `buf[range]`.
    static func newlineCount(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
        var n = 0
        var at = range.lowerBound
        while at < range.upperBound, let nl = LineReader.nextNewline(UnsafeBufferPointer(rebasing: buf[..<range.upperBound]), from: at) {
            n += 1
            at = nl + 1
        }
        return n
    }
}

/// Result of encoding a set of documents.
public struct Throughput: Sendable {
    public var bytes: Int
    public var documents: Int
    public var tokens: Int
    public var seconds: Double
    public var threads: Int
    /// The encoding contexts' cache counters, summed (ParallelEncoder only).
    public var cache = CacheStats()
    public var mbPerSecond: Double { Double(bytes) / 1e6 / max(seconds, 1e-12) }
    public var tokensPerSecond: Double { Double(tokens) / max(seconds, 1e-12) }
}

public enum ParallelEncoder {
    /// Encodes every document on `threads` threads (one `EncodingContext` each) and returns the
    /// token count per document, timing the encoding only. With more than one thread, long
    /// documents are cut where the tokenizer allows it (`Tokenizer.cut`), so the counts are
    /// exactly those of whole documents.
    /// - Parameter countsPieces: count pieces by length in `Throughput.cache` (a little slower).
    public static func run(_ docs: Documents, tokenizer: Tokenizer, threads: Int, countsPieces: Bool = false) -> (Throughput, [Int]) {
        let n = docs.count
        let requested = max(1, threads)
        let contexts = (0..<requested).map { _ in EncodingContext(countsPieces: countsPieces) }
        let start = DispatchTime.now().uptimeNanoseconds
        // Work items: (document, byte range), in order; groups of consecutive items of about
        // `partBytes` each are handed out one at a time.
        var items: [(doc: Int, range: Range<Int>)] = []
        items.reserveCapacity(n)
        docs.bytes.withUnsafeBufferPointer { all in
            for (k, r) in docs.ranges.enumerated() {
                guard requested > 1 else { items.append((k, r)); continue }
                for part in LongText.parts(UnsafeBufferPointer(rebasing: all[r]), tokenizer: tokenizer) {
                    items.append((k, r.lowerBound + part.lowerBound..<r.lowerBound + part.upperBound))
                }
            }
        }
        var groups: [Range<Int>] = []
        var first = 0, bytes = 0
        for (i, item) in items.enumerated() {
            bytes += item.range.count
            if bytes >= LongText.partBytes || i + 1 - first >= 64 || i + 1 == items.count {
                groups.append(first..<i + 1)
                first = i + 1
                bytes = 0
            }
        }
        let threads = min(requested, max(groups.count, 1))
        var itemCounts = [Int](repeating: 0, count: items.count)
        itemCounts.withUnsafeMutableBufferPointer { out in
            docs.bytes.withUnsafeBufferPointer { all in
                nonisolated(unsafe) let out = out
                nonisolated(unsafe) let all = all
                nonisolated(unsafe) let contexts = contexts
                let items = items, groups = groups
                let next = AtomicCounter()
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    var ids: [UInt32] = []
                    ids.reserveCapacity(1 << 16)
                    while true {
                        let g = next.add(1)
                        if g >= groups.count { break }
                        for k in groups[g] {
                            ids.removeAll(keepingCapacity: true)
                            tokenizer.encode(validUTF8: UnsafeBufferPointer(rebasing: all[items[k].range]), into: &ids, context: contexts[t])
                            out[k] = ids.count
                        }
                    }
                }
            }
        }
        var counts = [Int](repeating: 0, count: n)
        for (k, item) in items.enumerated() { counts[item.doc] += itemCounts[k] }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var t = Throughput(bytes: docs.byteCount, documents: n, tokens: counts.reduce(0, +), seconds: seconds, threads: threads)
        t.cache = contexts.reduce(CacheStats()) { $0 + $1.stats }
        return (t, counts)
    }
}

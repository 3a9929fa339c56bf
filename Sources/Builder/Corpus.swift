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

/// Documents held in one byte buffer.
public struct Documents: Sendable {
    public var bytes: [UInt8] = []
    public var ranges: [Range<Int>] = []

    public init() {}

    public var count: Int { ranges.count }
    public var byteCount: Int { ranges.reduce(0) { $0 + $1.count } }

    mutating func append<C: Collection>(_ doc: C) where C.Element == UInt8 {
        let start = bytes.count
        bytes.append(contentsOf: doc)
        ranges.append(start..<bytes.count)
    }

    /// Splits text as `split`, dropping empty documents.
    public static func fromText(_ text: [UInt8], split: DocumentSplit) -> Documents {
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
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw InputFileError(path: path, message: "not valid UTF-8 text")
        }
        return fromText(bytes, split: split)
    }
}

extension Documents {
    /// Streams the documents of a text file without holding the file: `body(firstLine, bytes)`
    /// for each non-empty document, split as `fromText` splits.
    public static func forEachDocument(path: String, split: DocumentSplit,
                                       _ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        switch split {
        case .lines:
            try LineReader.forEachLine(path: path) { number, line in if !line.isEmpty { try body(number, line) } }
        case .whole:
            let bytes = try LineReader.readAll(path: path)
            if !bytes.isEmpty { try bytes.withUnsafeBufferPointer { try body(1, $0) } }
        case .blankLines:
            // Python's split("\n\n") over the stream: a document ends at "\n\n"; the pair is
            // consumed, so "\n\n\n" leaves "\n" at the start of the next document.
            var doc: [UInt8] = []
            var docLine = 1
            var line = 1
            var pendingNewline = false
            func emit() throws {
                if !doc.isEmpty { try doc.withUnsafeBufferPointer { try body(docLine, $0) } }
                doc.removeAll(keepingCapacity: true)
            }
            let bytes = try LineReader.readAll(path: path)
            for b in bytes {
                if pendingNewline {
                    pendingNewline = false
                    if b == 0x0A {
                        line += 1
                        try emit()
                        docLine = line
                        continue
                    }
                    doc.append(0x0A)
                }
                if b == 0x0A {
                    line += 1
                    pendingNewline = true
                } else {
                    doc.append(b)
                }
            }
            if pendingNewline { doc.append(0x0A) }
            try emit()
        }
    }
}

/// Result of encoding a set of documents.
public struct Throughput: Sendable {
    public var bytes: Int
    public var documents: Int
    public var tokens: Int
    public var seconds: Double
    public var threads: Int
    public var mbPerSecond: Double { Double(bytes) / 1e6 / max(seconds, 1e-12) }
    public var tokensPerSecond: Double { Double(tokens) / max(seconds, 1e-12) }
}

public enum ParallelEncoder {
    /// Encodes every document on `threads` threads (one `EncodingContext` each) and returns the
    /// token count per document, timing the encoding only.
    public static func run(_ docs: Documents, tokenizer: Tokenizer, threads: Int) -> (Throughput, [Int]) {
        let n = docs.count
        var counts = [Int](repeating: 0, count: n)
        let threads = max(1, min(threads, max(n, 1)))
        let contexts = (0..<threads).map { _ in EncodingContext() }
        let start = DispatchTime.now().uptimeNanoseconds
        counts.withUnsafeMutableBufferPointer { out in
            docs.bytes.withUnsafeBufferPointer { all in
                nonisolated(unsafe) let out = out
                nonisolated(unsafe) let all = all
                nonisolated(unsafe) let contexts = contexts
                let ranges = docs.ranges
                let next = AtomicCounter()
                let chunk = 64
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    var ids: [UInt32] = []
                    ids.reserveCapacity(1 << 16)
                    while true {
                        let first = next.add(chunk)
                        if first >= n { break }
                        for k in first..<min(first + chunk, n) {
                            ids.removeAll(keepingCapacity: true)
                            tokenizer.encode(utf8: UnsafeBufferPointer(rebasing: all[ranges[k]]), into: &ids, context: contexts[t])
                            out[k] = ids.count
                        }
                    }
                }
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let t = Throughput(bytes: docs.byteCount, documents: n, tokens: counts.reduce(0, +), seconds: seconds, threads: threads)
        return (t, counts)
    }
}

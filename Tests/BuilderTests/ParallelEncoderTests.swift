// Long texts are cut into parts encoded on several threads (LongText): by `finetok bench`
// (ParallelEncoder) and by a build's workers for a long row or document. The ids must be those
// of the whole text.

import XCTest
@testable import Builder
import Tokenizer

final class ParallelEncoderTests: XCTestCase {
    func testCutDocumentsCountAsWholeDocuments() {
        let docs = Documents.fromText(Array(Self.randomText(seed: 3).utf8), split: .blankLines)
        XCTAssertGreaterThan(docs.ranges.map(\.count).max() ?? 0, 2 * LongText.partBytes)
        for tokenizer in [Loaded.gpt2, Loaded.pythia] {
            let (one, countsOne) = ParallelEncoder.run(docs, tokenizer: tokenizer, threads: 1)
            let (two, countsTwo) = ParallelEncoder.run(docs, tokenizer: tokenizer, threads: 2)
            XCTAssertEqual(countsOne, countsTwo)
            XCTAssertEqual(one.tokens, two.tokens)
            // And the single-thread counts are those of `encode`.
            for (k, r) in docs.ranges.enumerated() {
                XCTAssertEqual(tokenizer.encode(String(decoding: docs.bytes[r], as: UTF8.self)).count, countsOne[k])
            }
        }
    }

    /// Documents are valid UTF-8 (ParallelEncoder does not check them again): text with
    /// ill-formed bytes is repaired as `encode(utf8:)` repairs it, document by document.
    func testDocumentsFromIllFormedTextAreRepaired() {
        var rng = SeededRandom(seed: 17)
        let atoms: [[UInt8]] = [Array("word ".utf8), Array("中文".utf8), [0xFF], [0xC3], [0xE4, 0xB8], [0x80], [0xED, 0xA0, 0x80],
                                [0xF0, 0x9F, 0x98], [0x0A, 0x0A], Array("é".utf8), [0xC0, 0xAF]]
        var text: [UInt8] = []
        for _ in 0..<3000 { text += atoms[Int(rng.next() % UInt64(atoms.count))] }
        XCTAssertNotNil(text.withUnsafeBufferPointer { firstInvalidUTF8($0) })
        let docs = Documents.fromText(text, split: .blankLines)
        XCTAssertNil(docs.bytes.withUnsafeBufferPointer { firstInvalidUTF8($0) })
        let original = Documents.splitForTesting(text)
        XCTAssertEqual(docs.count, original.count)
        let tokenizer = Loaded.gpt2
        let (_, counts) = ParallelEncoder.run(docs, tokenizer: tokenizer, threads: 1)
        let context = EncodingContext()
        for (k, doc) in original.enumerated() {
            var ids: [UInt32] = []
            doc.withUnsafeBufferPointer { tokenizer.encode(utf8: $0, into: &ids, context: context) }
            XCTAssertEqual(counts[k], ids.count, "document \(k)")
        }
    }

    /// `finetok bench`'s JSONL documents: each row's field decoded (escapes, non-ASCII), blank
    /// lines skipped, a line longer than a read block read whole; a missing field or a field
    /// that is not a string names the file and line.
    func testJSONLDocumentsAreTheRowsFields() throws {
        let dir = temporaryFolder("finetok-docs")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededRandom(seed: 11)
        let escaped = ["a", "é", "中", "\\n", "\\\"", "\\u00e9", "\\ud83d\\ude00", " ", "\\t", "x y"]
        let decoded = ["a", "é", "中", "\n", "\"", "é", "😀", " ", "\t", "x y"]
        func randomField(_ n: Int) -> (String, String) {
            var raw = "", text = ""
            for _ in 0..<n {
                let i = Int(rng.next() % UInt64(escaped.count))
                raw += escaped[i]
                text += decoded[i]
            }
            return (raw, text)
        }
        var lines: [String] = [], expected: [String] = []
        for k in 0..<40 {
            var (raw, text) = randomField(Int(rng.next() % 50))
            if k == 20 {
                // A line longer than a read block (4 MiB): it spans two or more.
                let (r, t) = randomField(1000)
                raw = String(repeating: r, count: 1 + LineReader.blockSize / r.utf8.count)
                text = String(repeating: t, count: 1 + LineReader.blockSize / r.utf8.count)
            }
            lines.append("{\"id\": \(k), \"text\": \"\(raw)\", \"other\": [1, {\"text\": 2}]}")
            expected.append(text)
            if k % 7 == 3 { lines.append("   ") }
        }
        XCTAssertGreaterThan(lines.map(\.utf8.count).max() ?? 0, LineReader.blockSize)
        let path = writeFile(dir, "docs.jsonl", lines.joined(separator: "\n") + "\n")
        let docs = try Documents.load(path: path, split: .blankLines)
        XCTAssertEqual(docs.count, expected.count)
        XCTAssertEqual(docs.ranges.map { String(decoding: docs.bytes[$0], as: UTF8.self) }, expected)

        XCTAssertThrowsError(try Documents.load(path: path, split: .blankLines, field: "id")) { error in
            XCTAssertEqual("\(error)", "\(path):1: field \"id\" is a number, expected a string")
        }
        XCTAssertThrowsError(try Documents.load(path: path, split: .blankLines, field: "title")) { error in
            XCTAssertEqual("\(error)", "\(path):1: the row has no \"title\" field (choose one with --field)")
        }
    }

    /// Six documents separated by blank lines; the third is 1.3 MB (more than two parts).
    static func randomText(seed: UInt64) -> String {
        var rng = SeededRandom(seed: seed)
        let words = ["the", "tokenizer", "Hello", "world", "it's", "e\u{0301}t\u{00E9}", "中文", "  ", "\n ", "1234", "—", "x"]
        var text = ""
        for d in 0..<6 {
            let target = d == 2 ? 1_300_000 : 2_000
            var doc = ""
            while doc.utf8.count < target { doc += words[Int(rng.next() % UInt64(words.count))] + (rng.next() % 4 == 0 ? "" : " ") }
            text += doc + "\n\n"
        }
        return text
    }

    /// A build worker with 3 threads encodes a long row's parts at once: the row's ids and
    /// labels are those of the whole text, as a row (completion after a masked prompt) and as a
    /// `.txt` document, and an ill-formed document is still refused at its first bad byte.
    func testLongRowsEncodedInPartsEqualTheWholeText() throws {
        let docs = Documents.fromText(Array(Self.randomText(seed: 5).utf8), split: .blankLines)
        let long = try XCTUnwrap(docs.ranges.max { $0.count < $1.count })
        var settings = EncodingSettings()
        settings.eosId = 50256
        let text = String(decoding: docs.bytes[long], as: UTF8.self)
        let row = Array(#"{"question": "Why?", "answer": \#(jsonQuote(text))}"#.utf8)
        for tokenizer in [Loaded.gpt2, Loaded.pythia] {
            XCTAssertGreaterThan(docs.bytes[long].withUnsafeBufferPointer { LongText.parts($0, tokenizer: tokenizer) }.count, 2)
            let whole = tokenizer.encode(text) + [50256]
            let prompt = tokenizer.encode("### Question:\nWhy?\n\n### Answer:\n")
            for threads in [1, 3] {
                let encoder = ExampleEncoder(tokenizer: tokenizer, template: TemplateChoice(preset: .qa), settings: settings, threads: threads)
                guard case .ok(let r) = row.withUnsafeBufferPointer({ encoder.process($0) }) else { return XCTFail("row, \(threads) threads") }
                XCTAssertEqual(r.ids.array, prompt + whole, "row, \(threads) threads")
                XCTAssertEqual(r.labels, .suffix(from: prompt.count, count: r.ids.count))
                let documents = ExampleEncoder(tokenizer: tokenizer, template: TemplateChoice(preset: .text), settings: settings, threads: threads)
                guard case .ok(let d) = docs.bytes[long].withUnsafeBufferPointer({ documents.processDocument($0) }) else {
                    return XCTFail("document, \(threads) threads")
                }
                XCTAssertEqual(d.ids.array, whole, "document, \(threads) threads")
                var bad = Array(docs.bytes[long])
                bad[700_000] = 0xFF
                guard case .invalid(.invalidUTF8(let offset)) = bad.withUnsafeBufferPointer({ documents.processDocument($0) }) else {
                    return XCTFail("ill-formed document, \(threads) threads")
                }
                XCTAssertEqual(offset, 700_000)
            }
        }
    }
}

extension Documents {
    /// Python's `text.split(b"\n\n")` without the empty parts, on raw bytes.
    static func splitForTesting(_ text: [UInt8]) -> [[UInt8]] {
        var parts: [[UInt8]] = [], start = 0, i = 0
        while i + 1 < text.count {
            if text[i] == 0x0A && text[i + 1] == 0x0A {
                if i > start { parts.append(Array(text[start..<i])) }
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        if start < text.count { parts.append(Array(text[start...])) }
        return parts
    }
}

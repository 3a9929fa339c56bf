// Golden tests for the generic pre-tokenizers: every case of Fixtures/pretokenizers/pretokenizers.jsonl
// (a tokenizer.json `pre_tokenizer` value and a text) must give HF tokenizers' pieces: Split with
// every behaviour × invert for regexes and strings, Digits, Punctuation, Whitespace,
// WhitespaceSplit, CharDelimiterSplit, BertPreTokenizer, and the whole pre_tokenizer of seven
// real tokenizer files (deepseek-llm's sequence of Split regexes, falcon's ByteLevel before
// Digits and Split). Regenerate with tools/make_pretokenizer_fixtures.py.

import Foundation
import XCTest
@testable import Tokenizer

final class PreTokenizerParityTests: XCTestCase {
    /// The byte-level string HF prints for original bytes `text[s..<e]`.
    func byteLevelString(_ bytes: [UInt8], _ s: Int, _ e: Int) -> String {
        var out = String.UnicodeScalarView()
        for b in bytes[s..<e] { out.append(Unicode.Scalar(ByteLevel.byteToScalar[Int(b)])!) }
        return String(out)
    }

    func describe(_ v: JSONValue) -> String {
        guard let members = v.objectValue else { return "\(v)" }
        return "{" + members.map { k, x in "\(k): " + (x.stringValue.map(JSON.quoted) ?? (x.objectValue != nil || x.arrayValue != nil ? "…" : "\(x)")) }.joined(separator: ", ") + "}"
    }

    func testHFParity() throws {
        let rows = try readPreTokenizerFixture("pretokenizers.jsonl")
        var cases = 0, mismatches = 0
        var perFile: [String: Int] = [:]
        let scratch = PreTokenizerSequence.Scratch()
        for row in rows {
            let config = try XCTUnwrap(row["pre_tokenizer"])
            let label = row["file"]?.stringValue ?? describe(config)
            let sequence: PreTokenizerSequence
            do {
                sequence = try PreTokenizerSequence.fromJSON(config)
            } catch {
                XCTFail("\(label): \(error)")
                continue
            }
            for c in row["cases"]?.arrayValue ?? [] {
                let text = c["text"]?.stringValue ?? ""
                let bytes = Array(text.utf8)
                var got: [[Int]] = []
                bytes.withUnsafeBufferPointer { buf in
                    sequence.split(buf, 0, buf.count, scratch) { s, e in got.append([s, e]) }
                }
                cases += 1
                if let file = row["file"]?.stringValue { perFile[file, default: 0] += 1 }
                let ok: Bool
                var want = "", have = ""
                if let strings = c["strings"]?.arrayValue {
                    let w = strings.compactMap(\.stringValue)
                    let h = got.map { byteLevelString(bytes, $0[0], $0[1]) }
                    ok = w == h
                    want = "\(w)"
                    have = "\(h)"
                } else {
                    let w = ranges(c["pieces"])
                    ok = w == got
                    want = "\(w)"
                    have = "\(got)"
                }
                if !ok {
                    mismatches += 1
                    if mismatches <= 15 {
                        XCTFail("\(label) on \(JSON.quoted(String(text.prefix(200)))):\n  want \(want.prefix(600))\n  got  \(have.prefix(600))")
                    }
                }
            }
        }
        XCTAssertGreaterThan(cases, 2500)
        XCTAssertEqual(perFile.count, 7)
        XCTAssertEqual(mismatches, 0, "\(mismatches) of \(cases) cases differ from HF")
        print("pre-tokenizer parity: \(cases) cases in \(rows.count) configurations match HF (real files: \(perFile.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))")
    }
}

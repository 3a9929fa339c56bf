// Golden tests for the regex engine: every (pattern, text) of Fixtures/pretokenizers/regex.jsonl
// must split exactly as HF tokenizers' `Split(Regex(pattern))` does with the Isolated and the
// Removed behaviours (together they fix every match's boundaries and which pieces matched). HF
// runs Oniguruma, so this is Oniguruma's leftmost-first semantics. Patterns Oniguruma rejects
// must be rejected; patterns finetok refuses on purpose must be refused.
// Regenerate with tools/make_pretokenizer_fixtures.py.

import Foundation
import XCTest
@testable import Tokenizer

/// Rows of a JSONL fixture under Fixtures/pretokenizers/.
func readPreTokenizerFixture(_ name: String) throws -> [JSONValue] {
    let data = try Data(contentsOf: fixtures.appendingPathComponent("pretokenizers/\(name)"))
    return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { try JSON.parse(String($0)) }
}

/// `[s0, e0, s1, e1, ...]` → ranges.
func ranges(_ v: JSONValue?) -> [[Int]] {
    let flat = (v?.arrayValue ?? []).compactMap(\.intValue)
    return stride(from: 0, to: flat.count - 1, by: 2).map { [flat[$0], flat[$0 + 1]] }
}

/// The pieces a step gives for `text`, as `[start, end]` byte ranges.
func pieces(_ step: GenericPreTokenizer, _ text: String, _ matcher: RegexMatcher = RegexMatcher()) -> [[Int]] {
    var out: [[Int]] = []
    let bytes = Array(text.utf8)
    bytes.withUnsafeBufferPointer { buf in
        step.split(buf, 0, buf.count, matcher) { s, e in out.append([s, e]) }
    }
    return out
}

final class RegexParityTests: XCTestCase {
    func testOnigurumaParity() throws {
        let rows = try readPreTokenizerFixture("regex.jsonl")
        XCTAssertGreaterThan(rows.count, 200)
        var cases = 0, mismatches = 0, rejected = 0, refused = 0
        let matcher = RegexMatcher()
        for row in rows {
            let pattern = row["pattern"]?.stringValue ?? ""
            if let error = row["error"]?.stringValue {
                rejected += 1
                XCTAssertThrowsError(try RegexProgram(pattern: pattern), "\(JSON.quoted(pattern)): Oniguruma says \(error)")
                continue
            }
            if row["unsupported"]?.boolValue == true {
                refused += 1
                XCTAssertThrowsError(try RegexProgram(pattern: pattern), "\(JSON.quoted(pattern)) should be refused")
                continue
            }
            let program: RegexProgram
            do {
                program = try RegexProgram(pattern: pattern)
            } catch {
                XCTFail("\(JSON.quoted(pattern)): \(error)")
                continue
            }
            for c in row["cases"]?.arrayValue ?? [] {
                let text = c["text"]?.stringValue ?? ""
                cases += 1
                let isolated = pieces(GenericPreTokenizer(.split(program, .isolated, invert: false)), text, matcher)
                let removed = pieces(GenericPreTokenizer(.split(program, .removed, invert: false)), text, matcher)
                if isolated != ranges(c["isolated"]) || removed != ranges(c["removed"]) {
                    mismatches += 1
                    if mismatches <= 20 {
                        XCTFail("""
                            \(JSON.quoted(pattern)) on \(JSON.quoted(text)):
                              isolated want \(ranges(c["isolated"])) got \(isolated)
                              removed  want \(ranges(c["removed"])) got \(removed)
                            """)
                    }
                }
            }
        }
        XCTAssertGreaterThan(cases, 2500)
        XCTAssertEqual(mismatches, 0, "\(mismatches) of \(cases) cases differ from Oniguruma")
        print("regex parity: \(cases) cases over \(rows.count - rejected - refused) patterns match Oniguruma; \(rejected) invalid patterns rejected; \(refused) unsupported ones refused")
    }
}

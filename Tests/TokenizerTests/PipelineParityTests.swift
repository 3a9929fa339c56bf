// Whole tokenizer.json pipelines with the generic pre-tokenizers, end to end through Tokenizer:
// the pre-tokenizers of StarCoder 2, DeepSeek LLM, Falcon and Command R as their folders have
// them (Digits, Punctuation, Split with hand-written regexes, ByteLevel in the middle, NFC), and
// synthetic sequences of every generic step and behaviour, each over a small byte-level BPE model.
// The ids are HF tokenizers' for 300 texts (tools/make_pipeline_fixtures.py).

import Foundation
import XCTest
@testable import Tokenizer

final class PipelineParityTests: XCTestCase {
    func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let tokenizer = try Tokenizer.load(fixtures.appendingPathComponent("pipelines/\(name).json").path)
        let rows = try readFixture("pipelines/\(name).jsonl")
        XCTAssertEqual(rows.count, 301, "pipelines/\(name).jsonl", file: file, line: line)
        var mismatches = 0
        for row in rows where tokenizer.encode(row.text) != row.ids {
            mismatches += 1
            if mismatches <= 3 {
                XCTFail("pipelines/\(name).jsonl:\(row.line): \(JSON.quoted(String(row.text.prefix(120))))\n want \(row.ids.prefix(30))\n got  \(tokenizer.encode(row.text).prefix(30))", file: file, line: line)
            }
        }
        XCTAssertEqual(mismatches, 0, "pipelines/\(name).jsonl: \(mismatches) of \(rows.count) rows differ", file: file, line: line)
    }

    func testStarCoder2() throws { try check("starcoder2") }
    func testDeepSeekLLM() throws { try check("deepseek-llm") }
    func testFalcon() throws { try check("falcon") }
    func testCommandR() throws { try check("command-r") }
    func testPunctuationMergedWithPreviousThenWhitespaceMergedWithNext() throws { try check("punct_merged_ws_next") }
    func testWhitespace() throws { try check("whitespace") }
    func testBertThenIndividualDigits() throws { try check("bert_digits") }
    func testCharDelimiterThenWhitespaceSplit() throws { try check("chardelim_whitespacesplit") }
    func testRegexContiguousInvertedThenRemoved() throws { try check("regex_contiguous_invert") }
    func testRegexLookaheadAndLazy() throws { try check("regex_lookahead_lazy") }

    /// What `finetok info` prints for the steps, and a bad regex refused with its JSON path.
    func testDescriptionsAndRefusal() throws {
        let falcon = try Tokenizer.load(fixtures.appendingPathComponent("pipelines/falcon.json").path)
        let steps = falcon.pipelineDescription.first { $0.stage == "pre-tokenizer" }?.value ?? ""
        XCTAssertTrue(steps.hasPrefix("Punctuation(Contiguous), ByteLevel"), steps)
        XCTAssertTrue(steps.hasSuffix("Digits(contiguous), Split(regex \"[0-9][0-9][0-9]\", Isolated)"), steps)

        var json = try String(contentsOf: fixtures.appendingPathComponent("pipelines/whitespace.json"), encoding: .utf8)
        json = json.replacingOccurrences(of: "{\"type\": \"Whitespace\"}", with: "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(a\"}, \"behavior\": \"Isolated\", \"invert\": false}")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-bad-regex-\(UUID().uuidString).json")
        try json.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try Tokenizer.load(url.path)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("pre_tokenizer.pretokenizers[0].pattern.Regex"), message)
            XCTAssertTrue(message.contains(url.lastPathComponent), message)
        }
    }
}

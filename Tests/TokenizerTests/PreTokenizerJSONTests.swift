// Building pre-tokenizers from tokenizer.json values: HF's required fields and defaults, and
// errors that name the JSON path (and, for a regex, the byte offset in the pattern).

import Foundation
import XCTest
@testable import Tokenizer

final class PreTokenizerJSONTests: XCTestCase {
    func step(_ json: String) throws -> GenericPreTokenizer? {
        try GenericPreTokenizer.fromJSON(try JSON.parse(json), at: "pre_tokenizer")
    }

    func failure(_ json: String) -> PreTokenizerJSONError? {
        do {
            _ = try PreTokenizerSequence.fromJSON(try JSON.parse(json))
            return nil
        } catch let e as PreTokenizerJSONError {
            return e
        } catch {
            XCTFail("\(error)")
            return nil
        }
    }

    func testAcceptsWhatHFAccepts() throws {
        XCTAssertNotNil(try step(#"{"type": "Digits", "individual_digits": true}"#))
        XCTAssertNotNil(try step(#"{"type": "Punctuation"}"#))  // behavior defaults to Isolated
        XCTAssertNotNil(try step(#"{"type": "Split", "pattern": {"String": "-"}, "behavior": "Isolated", "invert": false, "extra": 1}"#))
        XCTAssertNotNil(try step(#"{"type": "Whitespace"}"#))
        XCTAssertNotNil(try step(#"{"type": "WhitespaceSplit"}"#))
        XCTAssertNotNil(try step(#"{"type": "BertPreTokenizer"}"#))
        XCTAssertNotNil(try step(#"{"type": "CharDelimiterSplit", "delimiter": "▁"}"#))
        // Types the loader handles itself.
        XCTAssertNil(try step(#"{"type": "ByteLevel", "add_prefix_space": false}"#))
        XCTAssertNil(try step(#"{"type": "Metaspace", "replacement": "▁"}"#))
        XCTAssertNil(try step(#"{"type": "Sequence", "pretokenizers": []}"#))
        XCTAssertEqual(try PreTokenizerSequence.fromJSON(.null).steps.count, 0)
    }

    func testErrorsNameTheJSONPath() throws {
        let cases: [(String, String, Bool)] = [
            (#"{"type": "Digits"}"#, "pre_tokenizer.individual_digits", false),
            (#"{"type": "Digits", "individual_digits": "yes"}"#, "pre_tokenizer.individual_digits", false),
            (#"{"type": "Punctuation", "behavior": "removed"}"#, "pre_tokenizer.behavior", false),
            (#"{"type": "Split", "pattern": {"Regex": "-"}, "behavior": "Isolated"}"#, "pre_tokenizer.invert", false),
            (#"{"type": "Split", "pattern": "-", "behavior": "Isolated", "invert": false}"#, "pre_tokenizer.pattern", false),
            (#"{"type": "Split", "pattern": {"Regex": "-", "String": "x"}, "behavior": "Isolated", "invert": false}"#, "pre_tokenizer.pattern", false),
            (#"{"type": "Split", "pattern": {"Regex": "a("}, "behavior": "Isolated", "invert": false}"#, "pre_tokenizer.pattern.Regex", false),
            (#"{"type": "CharDelimiterSplit", "delimiter": "ab"}"#, "pre_tokenizer.delimiter", false),
            (#"{"type": "CharDelimiterSplit"}"#, "pre_tokenizer.delimiter", false),
            (#"{"pattern": 1}"#, "pre_tokenizer.type", false),
            (#"[1]"#, "pre_tokenizer", false),
            (#"{"type": "UnicodeScripts"}"#, "pre_tokenizer.type", true),
            (#"{"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true}, {"type": "Split", "pattern": {"Regex": "\\p{Han}+"}, "behavior": "Isolated", "invert": false}]}"#,
             "pre_tokenizer.pretokenizers[1].pattern.Regex", true),
            (#"{"type": "Sequence", "pretokenizers": [{"type": "ByteLevel", "add_prefix_space": true}, {"type": "Digits", "individual_digits": true}]}"#,
             "pre_tokenizer.pretokenizers[0].add_prefix_space", true),
            (#"{"type": "Sequence", "pretokenizers": [{"type": "ByteLevel"}, {"type": "ByteLevel"}]}"#, "pre_tokenizer", true),
            (#"{"type": "Sequence"}"#, "pre_tokenizer.pretokenizers", false),
        ]
        for (json, path, unsupported) in cases {
            guard let e = failure(json) else {
                XCTFail("\(json) was accepted")
                continue
            }
            XCTAssertEqual(e.jsonPath, path, "\(json): \(e)")
            XCTAssertEqual(e.unsupported, unsupported, "\(json): \(e)")
        }
        let regex = try XCTUnwrap(failure(#"{"type": "Split", "pattern": {"Regex": "ab[z-a]"}, "behavior": "Isolated", "invert": false}"#))
        XCTAssertTrue(regex.message.contains("at byte 4"), regex.message)
    }

    /// The loader's fast path: a Split with a regex finetok has a scanner for uses it.
    func testKnownRegexesUseTheScanners() throws {
        let llama3 = #"{"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false}"#
        let sequence = try PreTokenizerSequence.fromJSON(try JSON.parse(llama3))
        guard case .scanner(.cl100k, .isolated, invert: false)? = sequence.steps.first else {
            return XCTFail("expected the cl100k scanner, got \(sequence.steps)")
        }
    }

    /// HF's own example for the behaviours (`SplitDelimiterBehavior` docs).
    func testBehavioursOnTheHFExample() throws {
        let expected: [SplitDelimiterBehavior: [String]] = [
            .removed: ["the", "final", "countdown"],
            .isolated: ["the", "-", "final", "-", "-", "countdown"],
            .mergedWithPrevious: ["the-", "final-", "-", "countdown"],
            .mergedWithNext: ["the", "-final", "-", "-countdown"],
            .contiguous: ["the", "-", "final", "--", "countdown"],
        ]
        let text = "the-final--countdown"
        for (behavior, want) in expected {
            let step = GenericPreTokenizer(.split(try RegexProgram(literal: "-"), behavior, invert: false))
            let got = pieces(step, text).map { String(decoding: Array(text.utf8)[$0[0]..<$0[1]], as: UTF8.self) }
            XCTAssertEqual(got, want, "\(behavior)")
        }
    }
}

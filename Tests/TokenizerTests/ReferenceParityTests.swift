// Golden tests: every row of the reference encodings (HF tokenizers 0.23.3, tiktoken 0.14;
// regenerate with tools/make_fixtures.py) must encode to the same ids and decode back.

import Foundation
import XCTest
@testable import Tokenizer

final class ReferenceParityTests: XCTestCase {
    func check(_ tokenizer: Tokenizer, _ fixture: String, nfc: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let rows = try readFixture(fixture)
        XCTAssertGreaterThan(rows.count, 20, "fixture \(fixture) is empty", file: file, line: line)
        var mismatches = 0
        for row in rows {
            let got = tokenizer.encode(row.text)
            if got != row.ids {
                mismatches += 1
                if mismatches <= 3 {
                    XCTFail("\(fixture):\(row.line): \(JSON.quoted(String(row.text.prefix(120))))\n want \(row.ids.prefix(30))\n got  \(got.prefix(30))", file: file, line: line)
                }
            }
            // Round trip: decode(encode(s)) == s (NFC(s) where the tokenizer normalizes).
            let expected = nfc ? String(decoding: row.text._nfcCodeUnits, as: UTF8.self) : row.text
            let decoded = try tokenizer.decode(row.ids)
            XCTAssertEqual(Array(decoded.utf8), Array(expected.utf8), "\(fixture):\(row.line): round trip", file: file, line: line)
        }
        XCTAssertEqual(mismatches, 0, "\(fixture): \(mismatches) of \(rows.count) rows differ", file: file, line: line)
    }

    func testGPT2VocabMerges() throws { try check(Loaded.gpt2, "gpt2.jsonl") }
    func testPythiaTokenizerJSON() throws { try check(Loaded.pythia, "pythia.jsonl", nfc: true) }
    func testDolma2TokenizerJSON() throws { try check(Loaded.dolma2, "dolma2.jsonl") }
    func testCl100kTiktoken() throws { try check(Loaded.cl100k, "cl100k_base.jsonl") }
    func testQwen2Tiktoken() throws { try check(Loaded.qwen2, "qwen2.jsonl") }
    func testO200kPatternOnCl100kRanks() throws { try check(Loaded.o200kOnCl100k, "o200k_pattern_cl100k_ranks.jsonl") }

    /// An empty text has no ids (HF tokenizers' `encode("", add_special_tokens=False)` and
    /// tiktoken's `encode_ordinary("")` give []); a build skips encoding an empty segment.
    func testEmptyTextHasNoIds() throws {
        let phi3 = try Tokenizer.load(vocabPath("phi3"))
        for tokenizer in [Loaded.gpt2, Loaded.pythia, Loaded.dolma2, Loaded.cl100k, Loaded.qwen2, Loaded.o200kOnCl100k, phi3] {
            XCTAssertEqual(tokenizer.encode(""), [], tokenizer.paths.joined(separator: "+"))
        }
    }

    // Seeded random strings aimed at the split patterns' corners (tools/make_fixtures.py).
    func testStressGPT2() throws { try check(Loaded.gpt2, "stress_gpt2.jsonl") }
    func testStressPythia() throws { try check(Loaded.pythia, "stress_pythia.jsonl", nfc: true) }
    func testStressDolma2() throws { try check(Loaded.dolma2, "stress_dolma2.jsonl") }
    func testStressCl100k() throws { try check(Loaded.cl100k, "stress_cl100k_base.jsonl") }
    func testStressQwen2() throws { try check(Loaded.qwen2, "stress_qwen2.jsonl") }
    func testStressO200k() throws { try check(Loaded.o200kOnCl100k, "stress_o200k_pattern_cl100k_ranks.jsonl") }

    /// Added tokens with every flag (lstrip, rstrip, single_word, normalized), against HF.
    func testAddedTokenFlags() throws {
        let tiny = try Tokenizer.load(fixtures.appendingPathComponent("tiny_added.json").path)
        let rows = try readFixture("tiny_added.jsonl")
        XCTAssertGreaterThan(rows.count, 20)
        for row in rows {
            XCTAssertEqual(tiny.encode(row.text), row.ids, "tiny_added.jsonl:\(row.line): \(JSON.quoted(row.text))")
        }
    }

    /// The acceptance example: pythia-70m's ids for this sentence (HF tokenizers).
    func testPythiaHelloWorld() {
        XCTAssertEqual(Loaded.pythia.encode("Hello World from China!"), [12092, 3645, 432, 4135, 2])
    }

    func testSpecialTokensAreTextUnlessAllowed() throws {
        // tiktoken encode_ordinary: the string is text.
        let ordinary = Loaded.cl100k.encode("<|endoftext|>")
        XCTAssertGreaterThan(ordinary.count, 1)
        let allowed = try Tokenizer.load(vocabPath("cl100k_base"), options: LoadOptions(allowSpecial: true))
        XCTAssertEqual(allowed.encode("a<|endoftext|>b"), Loaded.cl100k.encode("a") + [100257] + Loaded.cl100k.encode("b"))
        let gpt2Special = try Tokenizer.load(vocabPath("gpt2"), options: LoadOptions(allowSpecial: true))
        XCTAssertEqual(gpt2Special.encode("<|endoftext|>"), [50256])
        XCTAssertEqual(Loaded.gpt2.encode("<|endoftext|>"), [27, 91, 437, 1659, 5239, 91, 29])
        // tokenizer.json matches its added tokens by default (HF).
        XCTAssertEqual(Loaded.pythia.encode("<|endoftext|>"), [0])
    }

    func testDecodeSkipsSpecialAndRejectsUnknownIds() throws {
        XCTAssertEqual(try Loaded.pythia.decode([0, 12092, 1], skipSpecialTokens: true), "Hello")
        XCTAssertEqual(try Loaded.pythia.decode([0, 12092]), "<|endoftext|>Hello")
        XCTAssertThrowsError(try Loaded.gpt2.decode([50257])) { error in
            XCTAssertEqual(error as? TokenizerError, .unknownId(50257, vocabularySize: 50257))
        }
        // A lone byte of a multi-byte character decodes to U+FFFD, as HF does.
        let leadByte = Loaded.gpt2.model.byteIds[0xC3]
        XCTAssertEqual(try Loaded.gpt2.decode([leadByte]), "\u{FFFD}")
        XCTAssertEqual(try Loaded.gpt2.decode([leadByte, Loaded.gpt2.model.byteIds[0xA9]]), "é")
    }

    func testEosAndPad() {
        XCTAssertEqual(Loaded.gpt2.eosTokenId, 50256)
        XCTAssertEqual(Loaded.pythia.eosTokenId, 0)
        XCTAssertEqual(Loaded.pythia.padTokenId, 1)
        XCTAssertEqual(Loaded.dolma2.eosTokenId, 100257)
        XCTAssertEqual(Loaded.dolma2.padTokenId, 100277)
        XCTAssertEqual(Loaded.cl100k.eosTokenId, 100257)
        XCTAssertEqual(Loaded.qwen2.eosTokenId, 151643)
    }
}

final class InvalidBytesTests: XCTestCase {
    /// Raw bytes that are not UTF-8 are encoded as their lossy decoding (U+FFFD), never read past.
    func testIllFormedBytesAreRepairedNotOverread() {
        let cases: [[UInt8]] = [[0xF0], [0x61, 0xE2, 0x82], [0xC3, 0x28, 0x41], [0xED, 0xA0, 0x80], Array(repeating: 0xFF, count: 9)]
        for bytes in cases {
            for t in [Loaded.gpt2, Loaded.pythia, Loaded.cl100k] {
                var ids: [UInt32] = []
                bytes.withUnsafeBufferPointer { t.encode(utf8: $0, into: &ids, context: EncodingContext()) }
                XCTAssertEqual(ids, t.encode(String(decoding: bytes, as: UTF8.self)), "\(bytes)")
            }
        }
    }

    /// `encode(strictUTF8:)` rejects ill-formed bytes at their first bad sequence, appending
    /// nothing, and encodes well-formed ones as `encode(utf8:)`; `encode(_:into:context:)` as
    /// `encode(_:)`.
    func testStrictEncodingRejectsWhatTheRepairingOneRepairs() {
        let bad: [([UInt8], Int)] = [([0xF0], 0), ([0x61, 0xE2, 0x82], 1), ([0x61, 0x62, 0xC3, 0x28, 0x41], 2), ([0xED, 0xA0, 0x80], 0)]
        let good = ["", "a", "Hello, world! 123", "naïve café — 日本語 🙂", String(repeating: "x", count: 5000)]
        for t in [Loaded.gpt2, Loaded.pythia, Loaded.cl100k] {
            for (bytes, offset) in bad {
                var ids: [UInt32] = [7]
                let result = bytes.withUnsafeBufferPointer { t.encode(strictUTF8: $0, into: &ids, context: EncodingContext()) }
                XCTAssertEqual(result, offset, "\(bytes)")
                XCTAssertEqual(ids, [7], "nothing appended for \(bytes)")
            }
            for text in good {
                var strict: [UInt32] = [], repairing: [UInt32] = [], fromString: [UInt32] = []
                let bytes = Array(text.utf8)
                let result = bytes.withUnsafeBufferPointer { t.encode(strictUTF8: $0, into: &strict, context: EncodingContext()) }
                bytes.withUnsafeBufferPointer { t.encode(utf8: $0, into: &repairing, context: EncodingContext()) }
                t.encode(text, into: &fromString, context: EncodingContext())
                XCTAssertNil(result)
                XCTAssertEqual(strict, repairing, text)
                XCTAssertEqual(fromString, t.encode(text), text)
            }
        }
    }
}

final class ModelOptionTests: XCTestCase {
    /// `ignore_merges` (whole-vocabulary pieces emitted as is, as Llama 3 sets it) and a
    /// TemplateProcessing post-processor (BOS with add_special_tokens), against HF.
    func testIgnoreMergesAndTemplateProcessing() throws {
        let t = try Tokenizer.load(fixtures.appendingPathComponent("tiny_ignore_merges.json").path)
        let data = try Data(contentsOf: fixtures.appendingPathComponent("tiny_ignore_merges.jsonl"))
        var rows = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let v = try JSON.parse(String(line))
            let text = v["text"]?.stringValue ?? ""
            let ids = v["ids"]?.arrayValue?.compactMap { $0.intValue.map(UInt32.init) } ?? []
            let withSpecial = v["ids_with_special"]?.arrayValue?.compactMap { $0.intValue.map(UInt32.init) } ?? []
            XCTAssertEqual(t.encode(text), ids, text)
            XCTAssertEqual(t.encode(text, addSpecialTokens: true), withSpecial, text)
            rows += 1
        }
        XCTAssertEqual(rows, 6)
    }
}

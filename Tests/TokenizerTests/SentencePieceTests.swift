// SentencePiece-style tokenizers against their references (tools/make_spm_models.py writes the
// fixtures under Fixtures/spm): HF `tokenizers` for tokenizer.json files (Phi-3 and 20 small
// files with the pipelines of real ones and their variants), the `sentencepiece` library for
// tokenizer.model files (Phi-3 and 5 small trained models). Every row checks the ids, the
// decoding of those ids (and, for HF, with skip_special_tokens), and seeded random id lists
// check decoding alone.

import Foundation
import XCTest
@testable import Tokenizer

/// One row of an spm fixture: a text with its ids, or ids to decode.
struct DecodeRow {
    var line: Int
    var text: String?
    var ids: [UInt32]
    /// nil when the reference panicked (HF's Strip decoder on an empty text).
    var decoded: String?
    var decodedSkip: String?
}

func readDecodeFixture(_ name: String) throws -> [DecodeRow] {
    let data = try Data(contentsOf: fixtures.appendingPathComponent("spm/\(name)"))
    var rows: [DecodeRow] = []
    for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
        let v = try JSON.parse(String(line))
        let text = v["text"]?.stringValue
        let ids = (v["ids"] ?? v["decode_ids"])?.arrayValue?.compactMap { $0.intValue.map(UInt32.init) } ?? []
        // Left out when equal to the text / to the decoding (tools/make_spm_models.py).
        var decoded = v["decoded"].map { $0.stringValue } ?? text
        if v["decoded"] == nil && text == nil { decoded = nil }
        let skip = v["decoded_skip"].map { $0.stringValue } ?? decoded
        rows.append(DecodeRow(line: i + 1, text: text, ids: ids, decoded: decoded, decodedSkip: skip))
    }
    return rows
}

enum SPM {
    static let phi3 = try! Tokenizer.load(vocabPath("phi3"))
    static let phi3Model = try! Tokenizer.load(vocabPath("phi3/tokenizer.model"))
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent("spm/\(name)").path }
}

final class SentencePieceTests: XCTestCase {
    /// Encodes and decodes every row; `hf` rows also decode with skip_special_tokens.
    func check(_ tokenizer: Tokenizer, _ fixture: String, hf: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let rows = try readDecodeFixture(fixture)
        XCTAssertGreaterThan(rows.count, 50, "fixture \(fixture) is empty", file: file, line: line)
        var mismatches = 0, decodeMismatches = 0, checked = 0
        for row in rows {
            if let text = row.text {
                let got = tokenizer.encode(text)
                checked += 1
                if got != row.ids {
                    mismatches += 1
                    if mismatches <= 3 {
                        XCTFail("\(fixture):\(row.line): \(JSON.quoted(String(text.prefix(120))))\n want \(row.ids.prefix(40))\n got  \(got.prefix(40))", file: file, line: line)
                    }
                }
            }
            if let want = row.decoded {
                let got = try tokenizer.decode(row.ids)
                if got != want {
                    decodeMismatches += 1
                    if decodeMismatches <= 3 {
                        XCTFail("\(fixture):\(row.line): decode \(row.ids.prefix(20))\n want \(JSON.quoted(want))\n got  \(JSON.quoted(got))", file: file, line: line)
                    }
                }
            }
            if hf, let want = row.decodedSkip {
                let got = try tokenizer.decode(row.ids, skipSpecialTokens: true)
                if got != want {
                    decodeMismatches += 1
                    if decodeMismatches <= 3 {
                        XCTFail("\(fixture):\(row.line): decode(skip) \(row.ids.prefix(20))\n want \(JSON.quoted(want))\n got  \(JSON.quoted(got))", file: file, line: line)
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 50, file: file, line: line)
        XCTAssertEqual(mismatches, 0, "\(fixture): \(mismatches) of \(checked) texts encode differently", file: file, line: line)
        XCTAssertEqual(decodeMismatches, 0, "\(fixture): \(decodeMismatches) decodings differ", file: file, line: line)
    }

    // MARK: Phi-3 (vocab/phi3), 651 texts

    func testPhi3TokenizerJSONMatchesHF() throws { try check(SPM.phi3, "phi3.jsonl", hf: true) }
    func testPhi3TokenizerModelMatchesSentencePiece() throws { try check(SPM.phi3Model, "phi3_sentencepiece.jsonl", hf: false) }

    // MARK: Small tokenizer.model files trained with sentencepiece

    func testTinyModelsMatchSentencePiece() throws {
        for name in ["tiny_fallback", "tiny_unk", "tiny_trim", "tiny_unused", "tiny_noescape"] {
            let t = try Tokenizer.load(SPM.fixture("\(name).model"))
            try check(t, "\(name)_sentencepiece.jsonl", hf: false)
        }
    }

    // MARK: tokenizer.json pipelines

    func testTokenizerJSONVariantsMatchHF() throws {
        let names = ["hf_llama_legacy", "hf_metaspace_first", "hf_metaspace_first_split", "hf_metaspace_always_split",
                     "hf_metaspace_never_split", "hf_split_removed", "hf_split_isolated", "hf_split_mergedwithprevious",
                     "hf_split_mergedwithnext", "hf_split_mergedwithnext_invert", "hf_split_contiguous", "hf_strip_lowercase",
                     "hf_unk_fused", "hf_unk_unfused", "hf_partial_fallback", "hf_affixes", "hf_bytelevel_mid"]
        for name in names {
            let t = try Tokenizer.load(SPM.fixture("\(name).json"))
            try check(t, "\(name).jsonl", hf: true)
        }
    }

    /// The kinds decided at load.
    func testKinds() throws {
        guard case .characters = SPM.phi3.kind else { return XCTFail("phi3 tokenizer.json should be character-level") }
        guard case .sentencePiece = SPM.phi3Model.kind else { return XCTFail("phi3 tokenizer.model should be SentencePiece") }
        XCTAssertNotNil(SPM.phi3.cut, "Llama's vocabulary has no token with ▁ after another character: words are cut")
        XCTAssertEqual(SPM.phi3.cut?.unsafeBefore, [0x2581], "only ▁ itself (tokens ▁▁, ▁▁▁ ...) stops a cut")
        // Newline and tab are byte-fallback tokens that never merge: cut around them (Llama has "\r").
        XCTAssertEqual(SPM.phi3.cut?.isolated[13], false)
        for b in [9, 10] {
            XCTAssertEqual(SPM.phi3.cut?.isolated[b], true, "\(b)")
            XCTAssertEqual(SPM.phi3Model.cut?.isolated[b], true, "\(b)")
        }
        XCTAssertEqual(SPM.phi3.cut?.isolated[Int(UInt8(ascii: "a"))], false)
        let unused = try Tokenizer.load(SPM.fixture("tiny_unused.model"))
        guard case .sentencePiece(let spm) = unused.kind else { return XCTFail() }
        XCTAssertTrue(spm.needsReference, "UNUSED pieces need the exact step-by-step path")
        XCTAssertTrue(spm.wholeText, "and the whole text at once: their re-splitting depends on the rest of the text")
        XCTAssertNil(unused.cut)
        guard case .sentencePiece(let phi3) = SPM.phi3Model.kind else { return XCTFail() }
        XCTAssertFalse(phi3.needsReference)
        XCTAssertTrue(phi3.tiesByPosition, "Llama's ▁-run pieces share the score -1e9")
    }

    // MARK: Special tokens and the model folder

    func testPhi3FolderConfig() throws {
        let t = SPM.phi3
        XCTAssertEqual(t.config?.eosToken, "<|endoftext|>")
        XCTAssertEqual(t.eosTokenId, 32000)
        XCTAssertEqual(t.padTokenId, 32000)
        XCTAssertEqual(t.bosTokenIds, [1])
        XCTAssertEqual(t.encode("Hello", addSpecialTokens: true), [1] + t.encode("Hello"))
        XCTAssertTrue(t.config?.chatTemplates.first?.source.hasPrefix("{{ bos_token }}") ?? false)
        // Phi-3's <|assistant|> has rstrip: the newline after it is part of the token.
        XCTAssertEqual(t.encode("<|assistant|>\nHi"), [32001] + t.encode("Hi"))
        // A lone file has no config: the tokenizer.json post-processor decides (BOS too).
        let file = try Tokenizer.load(vocabPath("phi3/tokenizer.json"))
        XCTAssertNil(file.config)
        XCTAssertEqual(file.bosTokenIds, [1])
        XCTAssertEqual(file.eosTokenId, 32000, "without a config, the first known end-of-text name (<|endoftext|>)")
        // sentencepiece's encode never adds BOS and never matches control symbols.
        XCTAssertEqual(SPM.phi3Model.bosTokenIds, [])
        XCTAssertNotEqual(SPM.phi3Model.encode("<s>"), [1])
        XCTAssertEqual(SPM.phi3Model.tokenId("</s>"), 2)
    }

    func testConfigRules() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(atPath: SPM.fixture("tiny_fallback.model"), toPath: dir.appendingPathComponent("tokenizer.model").path)
        func write(_ name: String, _ text: String) throws { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        // special_tokens_map.json wins when the config has no added_tokens_decoder; object forms.
        try write("tokenizer_config.json", #"{"bos_token": "<s>", "eos_token": {"content": "<ctrl>"}, "add_bos_token": true, "model_max_length": 1e30, "chat_template": [{"name": "default", "template": "{{ x }}"}, {"name": "tool_use", "template": "t"}]}"#)
        try write("special_tokens_map.json", #"{"eos_token": {"content": "</s>", "lstrip": false}, "pad_token": null}"#)
        var t = try Tokenizer.load(dir.path)
        XCTAssertEqual(t.format, .sentencePiece)
        XCTAssertEqual(t.config?.eosToken, "</s>")
        XCTAssertEqual(t.eosTokenId, 2)
        XCTAssertNil(t.padTokenId, "pad_token null: none (build pads with EOS)")
        XCTAssertEqual(t.bosTokenIds, [1], "add_bos_token: BOS around a plain text, as transformers")
        XCTAssertNil(t.config?.modelMaxLength, "1e30 means no limit")
        XCTAssertEqual(t.config?.chatTemplates.map(\.name), ["default", "tool_use"])
        // chat_template.jinja replaces the config's default template.
        try write("chat_template.jinja", "{{ messages }}")
        t = try Tokenizer.load(dir.path)
        XCTAssertEqual(t.config?.chatTemplates.first?.source, "{{ messages }}")
        // With added_tokens_decoder in the config, special_tokens_map.json is not read.
        try write("tokenizer_config.json", #"{"added_tokens_decoder": {}, "eos_token": "<ctrl>", "add_bos_token": false, "model_max_length": 4096}"#)
        t = try Tokenizer.load(dir.path)
        XCTAssertEqual(t.eosTokenId, 3)
        XCTAssertEqual(t.bosTokenIds, [])
        XCTAssertEqual(t.config?.modelMaxLength, 4096)
        // Bad values name the file and key.
        try write("tokenizer_config.json", #"{"add_bos_token": "yes"}"#)
        XCTAssertThrowsError(try Tokenizer.load(dir.path)) { e in
            XCTAssertTrue("\(e)".contains("tokenizer_config.json:add_bos_token: expected true or false"), "\(e)")
        }
    }

    // MARK: Refusals and malformed files

    func testRefusedModels() {
        func message(_ path: String) -> String {
            do { _ = try Tokenizer.load(path); return "loaded" } catch { return error.description }
        }
        XCTAssertTrue(message(SPM.fixture("refuse_nfkc.model")).contains("normalizer_spec.precompiled_charsmap: the model normalizes text with \"nmt_nfkc\""))
        XCTAssertTrue(message(SPM.fixture("refuse_unigram.model")).contains("trainer_spec.model_type: this is a SentencePiece UNIGRAM model"))
    }

    func testMalformedProtobufNamesTheByteOffset() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: SPM.fixture("tiny_unk.model"))))
        func parse(_ b: [UInt8]) -> ProtobufError? {
            do { _ = try b.withUnsafeBufferPointer { buf throws(ProtobufError) in try SentencePieceModel.parse(buf) }; return nil } catch { return error }
        }
        XCTAssertNil(parse(bytes))
        // Truncated anywhere: an error (or, cut at a field boundary, a model that fails a check).
        var errors = 0
        for cut in stride(from: 1, to: bytes.count, by: 97) {
            if let e = parse(Array(bytes[..<cut])) {
                errors += 1
                XCTAssertLessThanOrEqual(e.offset, cut)
            }
        }
        XCTAssertGreaterThan(errors, bytes.count / 97 / 2)
        // A length that lies.
        XCTAssertEqual(parse([0x0A, 0xFF, 0x01, 0x00])?.message.contains("declares 255 bytes"), true)
        XCTAssertEqual(parse([0x0A, 0x80])?.offset, 1)
        XCTAssertEqual(parse([0x0B])?.message.contains("wire type 3"), true)
        XCTAssertEqual(parse([])?.message, "the model has no UNKNOWN piece (sentencepiece requires one)")
        // A piece of invalid UTF-8.
        XCTAssertEqual(parse([0x0A, 0x03, 0x0A, 0x01, 0xFF])?.message, "pieces[0].piece is not valid UTF-8")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-bad-\(UUID().uuidString).model").path
        try Data(bytes[..<(bytes.count / 2)]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try Tokenizer.load(path)) { e in
            XCTAssertTrue("\(e)".contains(".model:byte "), "\(e)")
        }
    }
}

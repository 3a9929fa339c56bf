// The `finetok` executable on model folders and SentencePiece files: info, encode with special
// tokens, decode, build's BOS, and the errors for files it refuses.

import Foundation
import XCTest

final class ModelFolderCLITests: XCTestCase {
    let phi3 = packageRoot.appendingPathComponent("vocab/phi3").path
    var phi3Model: String { phi3 + "/tokenizer.model" }
    let spmFixtures = packageRoot.appendingPathComponent("Tests/TokenizerTests/Fixtures/spm").path

    func testInfoOnPhi3Folder() throws {
        let r = try finetok(["info", "--vocab", phi3])
        XCTAssertEqual(r.status, 0, r.stderr)
        for line in ["kind            SentencePiece-style BPE over characters (HF tokenizers), from tokenizer.json",
                     "normalizer      Prepend(\"▁\"), Replace(\" \" → \"▁\")",
                     "vocabulary      32011 ids (32000 in the model, 11 added beyond it)",
                     "BOS             \"<s>\" = 1 before every text",
                     "EOS             \"<|endoftext|>\" = 32000 (tokenizer_config.json eos_token)",
                     "pad             \"<|endoftext|>\" = 32000 (tokenizer_config.json pad_token)",
                     "chat template   default (269 characters, 5 lines): {{ bos_token }}",
                     "  32001   \"<|assistant|>\"  special, rstrip"] {
            XCTAssertTrue(r.stdout.contains(line), "missing \(line) in\n\(r.stdout)")
        }
    }

    func testInfoOnTokenizerModel() throws {
        let r = try finetok(["info", "--vocab", phi3Model])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("kind            SentencePiece BPE (the sentencepiece library), from tokenizer.model"), r.stdout)
        XCTAssertTrue(r.stdout.contains("normalizer      sentencepiece identity(add_dummy_prefix, escape_whitespaces)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("BOS             none added to a text (sentencepiece's encode adds none)"), r.stdout)
    }

    func testEncodeDecodeWithSpecialTokens() throws {
        var r = try finetok(["encode", "--vocab", phi3, "--text", "Hello world"])
        XCTAssertEqual(r.stdout, "[15043, 3186]\n", r.stderr)
        r = try finetok(["encode", "--vocab", phi3, "--text", "Hello world", "--add-special-tokens"])
        XCTAssertEqual(r.stdout, "[1, 15043, 3186]\n", r.stderr)
        r = try finetok(["encode", "--vocab", phi3Model, "--text", "Hello world"])
        XCTAssertEqual(r.stdout, "[15043, 3186]\n", r.stderr)
        r = try finetok(["decode", "--vocab", phi3, "--ids", "1,15043,3186,29991"])
        XCTAssertEqual(r.stdout, "<s> Hello world!\n", r.stderr)
        r = try finetok(["decode", "--vocab", phi3, "--ids", "1,15043,3186,29991", "--skip-special"])
        XCTAssertEqual(r.stdout, "Hello world!\n", r.stderr)
    }

    func testBuildPutsBOSBeforeEachExample() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-mf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.jsonl").path
        try #"{"text": "Hello world"}"#.write(toFile: input, atomically: true, encoding: .utf8)
        var r = try finetok(["build", input, "--vocab", phi3, "--test-size", "0", "--out", dir.appendingPathComponent("a").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("bos          1 before each example"), r.stdout)
        XCTAssertEqual(try String(contentsOfFile: dir.appendingPathComponent("a/train.jsonl").path, encoding: .utf8),
                       #"{"input_ids": [1, 15043, 3186, 32000], "attention_mask": [1, 1, 1, 1], "labels": [1, 15043, 3186, 32000]}"# + "\n")
        r = try finetok(["build", input, "--vocab", phi3, "--test-size", "0", "--no-bos", "--out", dir.appendingPathComponent("b").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try String(contentsOfFile: dir.appendingPathComponent("b/train.jsonl").path, encoding: .utf8),
                       #"{"input_ids": [15043, 3186, 32000], "attention_mask": [1, 1, 1], "labels": [15043, 3186, 32000]}"# + "\n")
    }

    func testRefusedFilesExitWithInputError() throws {
        var r = try finetok(["info", "--vocab", spmFixtures + "/refuse_nfkc.model"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("refuse_nfkc.model: normalizer_spec.precompiled_charsmap: the model normalizes text with \"nmt_nfkc\""), r.stderr)
        r = try finetok(["info", "--vocab", phi3, "extra"])
        XCTAssertEqual(r.status, 2)
    }
}

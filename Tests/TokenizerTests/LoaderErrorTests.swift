// Bad vocabularies get clear errors naming the file and the line or JSON path.

import Foundation
import XCTest
@testable import Tokenizer

final class LoaderErrorTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ text: String) -> String {
        let p = dir.appendingPathComponent(name).path
        XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: Data(text.utf8)))
        return p
    }

    func error(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    /// A tiny vocabulary: bytes a, b, c and merges "a b" → ab, "ab c" → abc.
    let vocab = #"{"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4}"#

    func testTinyVocabEncodes() throws {
        _ = write("vocab.json", vocab)
        _ = write("merges.txt", "#version: 0.2\na b\nab c\n")
        let t = try Tokenizer.load(dir.path)
        XCTAssertEqual(t.encode("abcab"), [4, 3])
        XCTAssertEqual(t.encode("cba"), [2, 1, 0])
    }

    func testMalformedVocabJSONGivesLineAndColumn() {
        _ = write("vocab.json", "{\"a\": 0,\n \"b\": }")
        _ = write("merges.txt", "")
        let e = error { _ = try Tokenizer.load(dir.path) }
        XCTAssertTrue(e.contains("vocab.json:2:7: malformed JSON"), e)
    }

    func testMergeWithOnePartOrThree() {
        _ = write("vocab.json", vocab)
        _ = write("merges.txt", "a b\nab\n")
        XCTAssertTrue(error { _ = try Tokenizer.load(dir.path) }.contains("merges.txt:2: expected two tokens"))
        _ = write("merges.txt", "a b c\n")
        XCTAssertTrue(error { _ = try Tokenizer.load(dir.path) }.contains("merges.txt:1: expected two tokens"))
    }

    func testMergeNamingUnknownToken() {
        _ = write("vocab.json", vocab)
        _ = write("merges.txt", "a b\nb z\n")
        let e = error { _ = try Tokenizer.load(dir.path) }
        XCTAssertTrue(e.contains("merges.txt:2: merge \"b z\" names \"z\", which is not in the vocabulary"), e)
        _ = write("merges.txt", "b c\n")
        XCTAssertTrue(error { _ = try Tokenizer.load(dir.path) }.contains("makes \"bc\", which is not in the vocabulary"))
    }

    func testDuplicateIds() {
        _ = write("vocab.json", #"{"a": 0, "b": 0}"#)
        _ = write("merges.txt", "")
        XCTAssertTrue(error { _ = try Tokenizer.load(dir.path) }.contains("id 0 is given to two tokens"))
    }

    func testIdGaps() {
        _ = write("vocab.json", #"{"a": 0, "b": 2}"#)
        _ = write("merges.txt", "")
        XCTAssertTrue(error { _ = try Tokenizer.load(dir.path) }.contains("vocab.json: id 2 is beyond the 2 tokens given"))
        let ranks = write("gap_cl100k.tiktoken", "YQ== 0\nYg== 1\nYw== 3\nZA== 4\n")
        XCTAssertTrue(error { _ = try Tokenizer.load(ranks) }.contains("rank 2 is missing"))
        // Found by the loaders fuzzer: a huge rank must be refused, not allocated.
        let huge = write("huge_cl100k.tiktoken", "YQ== 0\nYg== 1888888887\n")
        XCTAssertTrue(error { _ = try Tokenizer.load(huge) }.contains("huge_cl100k.tiktoken:2: rank 1888888887 is beyond"))
        _ = write("vocab.json", #"{"a": 0, "b": 4000000000}"#)
        XCTAssertTrue(error { _ = try Tokenizer.load(dir.path) }.contains("is beyond the 2 tokens given"))
    }

    func testRankFileErrors() {
        let good = "YQ== 0\n"  // "a"
        let bad = write("x_cl100k.tiktoken", good + "!!!notbase64 1\n")
        XCTAssertTrue(error { _ = try Tokenizer.load(bad) }.contains("x_cl100k.tiktoken:2: invalid base64 token"))
        let dup = write("y_cl100k.tiktoken", "YQ== 0\nYg== 0\n")
        XCTAssertTrue(error { _ = try Tokenizer.load(dup) }.contains("y_cl100k.tiktoken:2: rank 0 appears twice"))
        let twice = write("w_cl100k.tiktoken", "YQ== 0\nYg== 1\nYQ== 2\n")
        XCTAssertTrue(error { _ = try Tokenizer.load(twice) }.contains("w_cl100k.tiktoken:3: token \"YQ==\" appears twice (also on line 1)"),
                      error { _ = try Tokenizer.load(twice) })
        let noRank = write("z_cl100k.tiktoken", "YQ==\n")
        XCTAssertTrue(error { _ = try Tokenizer.load(noRank) }.contains("z_cl100k.tiktoken:1: expected `base64-token rank`"))
        let unknown = write("mystery.tiktoken", good)
        XCTAssertTrue(error { _ = try Tokenizer.load(unknown) }.contains("pass --encoding"))
        XCTAssertTrue(error { _ = try Tokenizer.load(unknown, options: LoadOptions(encoding: "nope")) }.contains("unknown encoding \"nope\""))
        let partial = write("p_cl100k.tiktoken", good)
        XCTAssertTrue(error { _ = try Tokenizer.load(partial) }.contains("a byte-level rank file needs all 256"))
    }

    /// A rank file's fields against what Foundation read before: the token with
    /// `Data(base64Encoded:)` (whatever the strict decoder accepts, Foundation reads the same;
    /// Foundation also reads some misplaced padding, which is refused), the rank with
    /// `Int(String)` and the range check (the same answer). Seeded random fields of base64
    /// characters, padding, signs, digits and stray bytes, and every token of up to 40 random
    /// bytes encoded.
    /// `Tokenizer.base64Decode` into an array.
    private func base64Decoded(_ s: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: max(s.count, 1))
        let n = s.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { Tokenizer.base64Decode(s, to: $0.baseAddress!) } }
        return n.map { Array(out[0..<$0]) }
    }

    func testRankFileFieldsReadAsFoundationDoes() {
        var rng = SeededRandom(seed: 20261128)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        let extra: [UInt8] = Array("===-_ \n!".utf8) + [0x00, 0x80, 0xFF]
        var decoded = 0
        for round in 0..<20_000 {
            let n = Int(rng.next() % 14)
            var field = (0..<n).map { _ in rng.next() % 8 == 0 ? extra[Int(rng.next() % UInt64(extra.count))] : alphabet[Int(rng.next() % 64)] }
            if round % 3 == 0, n >= 2 { field[n - 1] = UInt8(ascii: "="); if round % 2 == 0 { field[n - 2] = UInt8(ascii: "=") } }
            let foundation = Data(base64Encoded: Data(field)).map { [UInt8]($0) }
            let ours = base64Decoded(field)
            if let ours {
                XCTAssertEqual(ours, foundation, "\(field)")
                decoded += 1
            }
            if foundation == nil { XCTAssertNil(ours, "\(field)") }
        }
        XCTAssertGreaterThan(decoded, 1000)
        for _ in 0..<2000 {
            let bytes = (0..<Int(rng.next() % 41)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let text = Array(Data(bytes).base64EncodedString().utf8)
            XCTAssertEqual(base64Decoded(text), bytes)
        }
        let rankPieces = ["0", "7", "123", "2147483647", "2147483648", "99999999999999999999", "+", "-", "+5", "-0", "-3", "007", "1a", " 1", "", "٣"]
        for _ in 0..<2000 {
            let text = (0..<Int(rng.next() % 3 + 1)).map { _ in rankPieces[Int(rng.next() % UInt64(rankPieces.count))] }.joined()
            let expected = Int(text).flatMap { $0 >= 0 && $0 < 1 << 31 ? $0 : nil }
            XCTAssertEqual(Tokenizer.rank(ArraySlice(Array(text.utf8))), expected, text)
        }
    }

    /// A tokenizer.json merge splits at its first space byte, as HF's `split(' ')`: a space
    /// followed by a combining mark is still the separator (a Character search saw one
    /// grapheme and refused the file). The ids are HF `tokenizers`' for the same file.
    func testMergeStringsSplitAtTheSpaceByte() throws {
        let model = #""model": {"type": "BPE", "vocab": {"a": 0, "\u0301": 1, "a\u0301": 2, "b": 3, "c": 4, "bc": 5}, "#
        func file(_ merges: String) -> String {
            #"{"normalizer": null, "pre_tokenizer": null, "added_tokens": [], "#
                + model + #""merges": \#(merges)}, "decoder": null, "post_processor": null}"#
        }
        let t = try Tokenizer.load(write("comb.json", file(#"["a \u0301", "b c"]"#)))
        XCTAssertEqual(t.encode("a\u{301}bc"), [2, 5])
        XCTAssertEqual(t.encode("bca\u{301}a"), [5, 2, 0])
        let three = write("three.json", file(#"["a \u0301", "b c c"]"#))
        XCTAssertTrue(error { _ = try Tokenizer.load(three) }.contains("three.json:model.merges[1]: merge \"b c c\" has more than two parts"))
        let one = write("one.json", file(#"["bc"]"#))
        XCTAssertTrue(error { _ = try Tokenizer.load(one) }.contains("one.json:model.merges[0]: merge \"bc\" should be two tokens separated by a space"))
        let pairs = try Tokenizer.load(write("pairs.json", file(#"[["a", "\u0301"], ["b", "c"]]"#)))
        XCTAssertEqual(pairs.encode("a\u{301}bc"), [2, 5])
    }

    func testUnsupportedTokenizerJSONComponentsNameTheirPath() {
        func tj(normalizer: String = "null", pre: String = #"{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#,
                model: String = #""type": "BPE""#) -> String {
            #"{"normalizer": \#(normalizer), "pre_tokenizer": \#(pre), "added_tokens": [], "#
                + #""model": {\#(model), "vocab": {"a": 0}, "merges": []}, "decoder": null, "post_processor": null}"#
        }
        let nfkc = write("t1.json", tj(normalizer: #"{"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "NFKC"}]}"#))
        XCTAssertTrue(error { _ = try Tokenizer.load(nfkc) }.contains("normalizer.normalizers[1].type: normalizer \"NFKC\" is not supported"))
        let unknown = write("t2.json", tj(pre: #"{"type": "NoSuchPreTokenizer"}"#))
        XCTAssertTrue(error { _ = try Tokenizer.load(unknown) }.contains("pre_tokenizer.type: pre-tokenizer \"NoSuchPreTokenizer\""))
        let regexReplace = write("t7.json", tj(normalizer: #"{"type": "Replace", "pattern": {"Regex": " +"}, "content": " "}"#))
        XCTAssertTrue(error { _ = try Tokenizer.load(regexReplace) }.contains("normalizer.pattern: only Replace patterns given as {\"String\": ...}"))
        let twoByteLevel = write("t8.json", tj(pre: #"{"type": "Sequence", "pretokenizers": [{"type": "ByteLevel"}, {"type": "ByteLevel"}]}"#))
        XCTAssertTrue(error { _ = try Tokenizer.load(twoByteLevel) }.contains("2 ByteLevel steps"))
        let regex = write("t3.json", tj(pre: #"{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "(\\w)\\1"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "use_regex": false}]}"#))
        let regexError = error { _ = try Tokenizer.load(regex) }
        XCTAssertTrue(regexError.contains("t3.json: pre_tokenizer.pretokenizers[0].pattern.Regex"), regexError)
        XCTAssertTrue(regexError.contains("back-references"), regexError)
        let wordpiece = write("t4.json", tj(model: #""type": "WordPiece""#))
        XCTAssertTrue(error { _ = try Tokenizer.load(wordpiece) }.contains("model.type: model type \"WordPiece\" is not supported"))
        let notTokenizer = write("t5.json", "[1, 2, 3]")
        XCTAssertTrue(error { _ = try Tokenizer.load(notTokenizer) }.contains("not a tokenizer.json"))
        let truncated = write("t6.json", "{\"model\": {\"vocab\": {\"a\": 0")
        XCTAssertTrue(error { _ = try Tokenizer.load(truncated) }.contains("t6.json:1:"))
    }

    func testMissingFiles() {
        XCTAssertTrue(error { _ = try Tokenizer.load(dir.appendingPathComponent("nope").path) }.contains("no such file"))
        _ = write("vocab.json", vocab)
        XCTAssertTrue(error { _ = try Tokenizer.load(dir.appendingPathComponent("vocab.json").path) }.contains("needs merges.txt beside it"))
    }
}

/// Inputs that once crashed or exhausted a fuzzer (fuzz/crashes), kept as regression tests: each
/// must load or fail with an error, promptly.
final class FuzzRegressionTests: XCTestCase {
    func testFuzzFindingsLoadOrFailCleanly() throws {
        let dir = fixtures.appendingPathComponent("fuzz-regressions")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertFalse(files.isEmpty)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-fuzzreg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        for name in files {
            let data = try Data(contentsOf: dir.appendingPathComponent(name))
            guard let selector = data.first else { continue }
            // Same layout as fuzz/targets/loaders.swift: the first byte picks the format.
            let body = data.dropFirst()
            var path = ""
            switch selector % 4 {
            case 0: path = tmp.appendingPathComponent("tokenizer.json").path
            case 1, 2:
                XCTAssertTrue(FileManager.default.createFile(atPath: tmp.appendingPathComponent("vocab.json").path,
                                                             contents: selector % 4 == 1 ? Data(body) : Data(#"{"a": 0, "b": 1, "ab": 2, "c": 3}"#.utf8)))
                XCTAssertTrue(FileManager.default.createFile(atPath: tmp.appendingPathComponent("merges.txt").path,
                                                             contents: selector % 4 == 2 ? Data(body) : Data("a b\n".utf8)))
                path = tmp.appendingPathComponent("vocab.json").path
            default: path = tmp.appendingPathComponent("fuzz_cl100k.tiktoken").path
            }
            if selector % 4 == 0 || selector % 4 == 3 { XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(body))) }
            do {
                let t = try Tokenizer.load(path)
                XCTAssertNoThrow(try t.decode(t.encode("Hello, world!")), name)
            } catch {
                XCTAssertFalse("\(error)".isEmpty, name)
            }
        }
    }
}

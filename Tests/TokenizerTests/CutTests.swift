// Cuts inside one text (Tokenizer+Cuts.swift): encoding the parts one after the other must give
// exactly the ids of the whole text, at every cut point of seeded random texts.

import XCTest
@testable import Tokenizer

final class CutTests: XCTestCase {
    /// Words, spaces and the characters that interact with a cut: contractions, combining marks
    /// (NFC), white-space runs (pythia's added tokens), special-token strings, non-ASCII letters.
    static let atoms: [String] = ["word", "Hello", "HELLO", "it's", "'ll", " ", "  ", "   ", "\n", "\r\n", "\t", ".", ",", "é",
                                  "e\u{0301}", "\u{0301}", "中文", "123", "4567", "<|endoftext|>", "<|padding|>", "ſ", "x", "Q",
                                  "\u{00A0}", "—", "ﬁ", "Å", "A\u{030A}"]

    func randomText(_ rng: inout SeededRandom) -> [UInt8] {
        var s = ""
        for _ in 0..<(5 + Int(rng.next() % 60)) {
            s += CutTests.atoms[Int(rng.next() % UInt64(CutTests.atoms.count))]
            if rng.next() % 3 != 0 { s += " " }
        }
        return Array(s.utf8)
    }

    func encode(_ t: Tokenizer, _ bytes: ArraySlice<UInt8>) -> [UInt32] {
        var out: [UInt32] = []
        Array(bytes).withUnsafeBufferPointer { t.encode(utf8: $0, into: &out, context: EncodingContext()) }
        return out
    }

    func testPartsEncodeAsTheWhole() {
        let tokenizers: [(String, Tokenizer)] = [("gpt2", Loaded.gpt2), ("cl100k", Loaded.cl100k), ("qwen2", Loaded.qwen2),
                                                 ("o200k", Loaded.o200kOnCl100k), ("pythia", Loaded.pythia), ("dolma2", Loaded.dolma2)]
        for (name, t) in tokenizers {
            XCTAssertTrue(t.cutsAllowed, name)
            var rng = SeededRandom(seed: 99)
            var cuts = 0
            for _ in 0..<200 {
                let text = randomText(&rng)
                let whole = encode(t, text[...])
                text.withUnsafeBufferPointer { p in
                    // Up to six cuts per text, from random starting points.
                    for _ in 0..<6 {
                        guard let k = t.cut(in: p, from: 1 + Int(rng.next() % UInt64(p.count)), to: p.count) else { continue }
                        XCTAssertTrue(k > 0 && k < p.count)
                        let parts = encode(t, text[..<k]) + encode(t, text[k...])
                        XCTAssertEqual(parts, whole, "\(name): cut at \(k) of \(JSON.quoted(String(decoding: text, as: UTF8.self)))")
                        cuts += 1
                    }
                }
            }
            XCTAssertGreaterThan(cuts, 500, name)
        }
    }

    func testNoCutsWhereThePipelineForbidsThem() throws {
        // Character-level BPE (Phi-3: Metaspace, "▁" before every text) and SentencePiece.
        let phi3 = try Tokenizer.load(vocabPath("phi3"))
        XCTAssertFalse(phi3.cutsAllowed)
        let text = Array("hello world and more words".utf8)
        text.withUnsafeBufferPointer { XCTAssertNil(phi3.cut(in: $0, from: 1, to: $0.count)) }
        // An added token that contains a letter followed by a space could span a cut.
        let spanning = Tokenizer.cutsAllowed(singlePattern: .gpt2, normalizer: .none,
                                             matchedAddedTokens: [AddedToken(id: 1, content: "a b", special: false)],
                                             contents: [Array("a b".utf8)])
        XCTAssertFalse(spanning)
        let rstrip = Tokenizer.cutsAllowed(singlePattern: .gpt2, normalizer: .none,
                                           matchedAddedTokens: [AddedToken(id: 1, content: "<x>", special: true, rstrip: true)],
                                           contents: [Array("<x>".utf8)])
        XCTAssertFalse(rstrip)
        XCTAssertFalse(Tokenizer.cutsAllowed(singlePattern: .gpt2, normalizer: Normalizer(steps: [.lowercase]),
                                             matchedAddedTokens: [], contents: []))
    }
}

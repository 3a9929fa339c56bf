// The fast ASCII scanners (SplitPattern+ASCII.swift) against the scalar scanners
// (SplitPattern.swift), and the fast encoding loop (EncodingContext+Split.swift) against a
// plain loop over the scalar scanner with no caches, on seeded random texts.
//
// The texts mix every ASCII class the fast paths branch on (letters of both cases, digits,
// U+0020, the other ASCII white space, CR/LF, the apostrophe and contraction letters, `/`,
// punctuation, control characters) with non-ASCII letters, marks, numbers, white space and
// punctuation, in runs long enough to cross the 8-byte words and short enough to end in the
// last bytes of the text.

import XCTest
@testable import Tokenizer

final class SplitScanTests: XCTestCase {
    /// Byte sequences the generator draws from: single characters and runs.
    static let atoms: [[UInt8]] = {
        var a: [String] = ["a", "Z", "s", "t", "re", "ve", "ll", "d", "m", "S", "T", "RE", "LL", "0", "7", " ", "  ", "\t", "\n", "\r",
                           "\r\n", "\u{0B}", "\u{0C}", "'", "'s", "'T", "'ll", "/", "//", ".", ",", "!?", "(", "_", "-", "\u{00}",
                           "\u{1F}", "\u{7F}", "~", "@", "[", "`", "{",
                           "é", "É", "ſ", "'ſ", "ǅ", "ʰ", "中文", "\u{0301}", "٣", "Ⅳ", "²", "\u{00A0}", "\u{3000}", "\u{2028}",
                           "\u{0085}", "—", "«", "😀", "𝐀", "𝟘", "\u{200B}", "ß"]
        for run in ["abcdefghijklmnopqrstuvwxyz", "HELLOWORLDAGAIN", "0123456789012", "                 ",
                    "\n\n\n\n\n\n\n\n\n", "!!!!!!!!!!!!!!!!", "\t \t \t \t \t "] {
            a.append(run)
        }
        return a.map { Array($0.utf8) }
    }()

    func randomText(_ rng: inout SeededRandom, maxAtoms: Int) -> [UInt8] {
        var out: [UInt8] = []
        let count = 1 + Int(rng.next() % UInt64(maxAtoms))
        for _ in 0..<count {
            let atom = SplitScanTests.atoms[Int(rng.next() % UInt64(SplitScanTests.atoms.count))]
            // A random prefix of an ASCII run, so that runs end at every offset within a word.
            if atom.count > 4 && atom.allSatisfy({ $0 < 0x80 }) && rng.next() % 2 == 0 {
                out += atom.prefix(1 + Int(rng.next() % UInt64(atom.count)))
            } else {
                out += atom
            }
        }
        return out
    }

    func testClassTableAgreesWithSWAR() {
        for b in 0..<256 {
            let w = UInt64(b)
            let c = ASCIIClass.table[b]
            XCTAssertEqual(SWAR.Letters.bits(w) & 0x80 != 0, c == ASCIIClass.letter, "byte \(b)")
            XCTAssertEqual(SWAR.Digits.bits(w) & 0x80 != 0, c == ASCIIClass.digit, "byte \(b)")
            XCTAssertEqual(SWAR.Spaces.bits(w) & 0x80 != 0, c == ASCIIClass.space, "byte \(b)")
            XCTAssertEqual(SWAR.Others.bits(w) & 0x80 != 0, c == ASCIIClass.other, "byte \(b)")
            XCTAssertEqual(SWAR.Upper.bits(w) & 0x80 != 0, (0x41...0x5A).contains(b), "byte \(b)")
            XCTAssertEqual(SWAR.Lower.bits(w) & 0x80 != 0, (0x61...0x7A).contains(b), "byte \(b)")
            XCTAssertEqual(c == 0, b >= 0x80)
        }
        // Every lane of a word, not only the lowest.
        var rng = SeededRandom(seed: 5)
        for _ in 0..<2000 {
            let w = rng.next()
            for lane in 0..<8 {
                let b = Int(w >> (8 * UInt64(lane)) & 0xFF)
                let bit = UInt64(0x80) << (8 * UInt64(lane))
                XCTAssertEqual(SWAR.Letters.bits(w) & bit != 0, ASCIIClass.table[b] == ASCIIClass.letter)
                XCTAssertEqual(SWAR.Spaces.bits(w) & bit != 0, ASCIIClass.table[b] == ASCIIClass.space)
                XCTAssertEqual(SWAR.Others.bits(w) & bit != 0, ASCIIClass.table[b] == ASCIIClass.other)
            }
        }
    }

    /// At every scalar boundary of every text, the fast scanner ends where the scalar one does.
    func testFastScannersEqualScalarScanners() {
        var rng = SeededRandom(seed: 77)
        var positions = 0
        for t in 0..<3000 {
            let text = randomText(&rng, maxAtoms: t % 3 == 0 ? 40 : 8)
            XCTAssertNotNil(String(validating: text, as: UTF8.self))
            text.withUnsafeBufferPointer { p in
                let s = Scanner(p: p, end: p.count)
                for i in 0..<p.count where p[i] & 0xC0 != 0x80 {
                    positions += 1
                    XCTAssertEqual(s.gpt2Fast(i), s.gpt2(i), "gpt2 at \(i) of \(text)")
                    XCTAssertEqual(s.cl100kFast(i, maxDigits: 3), s.cl100k(i, maxDigits: 3), "cl100k at \(i) of \(text)")
                    XCTAssertEqual(s.cl100kFast(i, maxDigits: 1), s.cl100k(i, maxDigits: 1), "qwen2 at \(i) of \(text)")
                    XCTAssertEqual(s.o200kFast(i), s.o200k(i), "o200k at \(i) of \(text)")
                }
            }
        }
        XCTAssertGreaterThan(positions, 50_000)
    }

    /// A context used with one tokenizer, then with another through `encode(utf8:…plain:)` (the
    /// chat builds' path), must not answer the second from the first one's caches.
    func testPlainRangesEncodeRebindsTheContext() {
        let text = "the quick brown fox jumps over the lazy dog, again and again <|endoftext|> done"
        let ctx = EncodingContext()
        var first: [UInt32] = []
        Array(text.utf8).withUnsafeBufferPointer { Loaded.gpt2.encode(utf8: $0, into: &first, context: ctx) }
        var second: [UInt32] = []
        Array(text.utf8).withUnsafeBufferPointer { Loaded.pythia.encode(utf8: $0, into: &second, context: ctx, plain: [0..<3]) }
        XCTAssertEqual(second, Loaded.pythia.encode(text))
        XCTAssertNotEqual(first, second)
    }

    /// The whole fast loop (scanner, hot cache, second-level cache, merge) against the scalar
    /// scanner and the model's piece encoding with no cache, for each pattern on its vocabulary;
    /// one context for all texts, so that the caches fill, collide and are reused.
    func testFastLoopEqualsPlainLoop() {
        let cases: [(Tokenizer, SplitPattern)] = [(Loaded.gpt2, .gpt2), (Loaded.cl100k, .cl100k), (Loaded.qwen2, .qwen2),
                                                  (Loaded.o200kOnCl100k, .o200k), (Loaded.pythia, .gpt2)]
        for (tokenizer, pattern) in cases {
            var rng = SeededRandom(seed: 2025)
            let ctx = EncodingContext()
            let scratch = MergeScratch()
            var differ = 0
            for _ in 0..<1500 {
                let text = randomText(&rng, maxAtoms: 30)
                var fast: [UInt32] = []
                text.withUnsafeBufferPointer { p in
                    ctx.bind(to: tokenizer)
                    ctx.encodeSplit(p, pattern, tokenizer.model, into: &fast)
                }
                let plain = plainEncode(text, tokenizer, pattern, scratch: scratch)
                if fast != plain {
                    differ += 1
                    if differ <= 3 { XCTFail("\(pattern): \(text)\n fast  \(fast)\n plain \(plain)") }
                }
            }
            XCTAssertEqual(differ, 0, "\(pattern)")
        }
    }
}

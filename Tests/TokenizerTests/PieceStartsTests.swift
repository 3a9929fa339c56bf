// GPT-2's and cl100k's piece starts from block masks (PieceStarts.swift) against the scalar
// scanner, on long seeded random texts made mostly of ASCII (so that most 64-byte blocks are
// decided by the masks) with every class and edge the rules distinguish: contractions and
// near-contractions, apostrophes after each class, U+0020 against the other white space before
// letters, digits and punctuation, line breaks after punctuation and inside white-space runs,
// white-space runs that end before a non-space, at the end of the text or past a block, and
// non-ASCII letters, spaces and punctuation now and then, next to block edges.

import XCTest
@testable import Tokenizer

final class PieceStartsTests: XCTestCase {
    static let atoms: [[UInt8]] = [
        "a", "Z", "word", " word", "s", "t", "re", "ve", "ll", "d", "m", "S", "'", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d",
        "'l", "'r", "'v", "'S", "''s", " 's", "9's", "\n's", "\t'", "0", "42", "1234567", " 7", ".", ",", "!?", "()", " (", "-",
        "\u{00}", "\u{1F}", "\u{7F}", "~", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\u{0B}", "\u{0C}", " \t ",
        "\n   ", "it's", "we're", "they'll", "don't", "I'm", "you'd", "x'y", "(word", "((x", " (x", "\t(x", "\tword", "'S", "'LL",
        "'Re", "IT'S", "12", "123456789", "'x", ".'s", "a\t'd", "\t\t", "\u{0B}x",
        // cl100k's line breaks, O runs and prefixes.
        ".\n", ".\n\n", ";\n    ", ")\r\n", " \n\n  ", "\n \n ", "  \n", "\t\n", "(\n", ".\tx", "\n(", " ((", "1234",
        "                ", "\n                        ", "'LL", "'vE",
    ].map { Array($0.utf8) }
    static let rareAtoms: [[UInt8]] = ["é", "中文", "\u{00A0}", "—", "’s", "😀", "\u{3000}", "²"].map { Array($0.utf8) }

    func randomText(_ rng: inout SeededRandom, bytes: Int) -> [UInt8] {
        var out: [UInt8] = []
        while out.count < bytes {
            if rng.next() % 60 == 0 {
                out += PieceStartsTests.rareAtoms[Int(rng.next() % UInt64(PieceStartsTests.rareAtoms.count))]
            } else {
                out += PieceStartsTests.atoms[Int(rng.next() % UInt64(PieceStartsTests.atoms.count))]
            }
        }
        return out
    }

    /// Piece ends by the loop's cursor: set bits while there are some, `StartMasks.end` else.
    func blockEnds<M: StartMasks>(_ text: [UInt8], _: M.Type) -> [Int] {
        text.withUnsafeBufferPointer { p in
            let s = Scanner(p: p, end: p.count)
            var ends: [Int] = []
            var base = -1, rest: UInt64 = 0, undecided = -1
            var i = 0
            while i < p.count {
                let e: Int
                if rest != 0 {
                    e = base + rest.trailingZeroBitCount
                    rest &= rest - 1
                } else {
                    (e, base, rest, undecided) = M.end(s, i, base: base, undecided: undecided)
                }
                ends.append(e)
                i = e
            }
            return ends
        }
    }

    /// Whether the masks' piece ends of `text` are the scalar scanner's; on a difference, a
    /// failure naming the round and showing the text around it.
    func sameEnds<M: StartMasks>(_ text: [UInt8], _: M.Type, _ pattern: SplitPattern, round: Int) -> Bool {
        let expected = scalarEnds(text, pattern)
        let got = blockEnds(text, M.self)
        if got == expected { return true }
        let k = (0..<min(got.count, expected.count)).first { got[$0] != expected[$0] } ?? min(got.count, expected.count)
        let at = k > 0 ? expected[k - 1] : 0
        XCTFail("\(pattern) round \(round): first difference after byte \(at): "
                + "\(String(decoding: text[max(0, at - 12)..<min(text.count, at + 24)], as: UTF8.self).debugDescription)")
        return false
    }

    /// The blocks of `text` the masks decide, and the blocks counted: those `counted` selects by
    /// their bytes.
    func decidedBlocks<M: StartMasks>(_ text: [UInt8], _: M.Type, counted: (ArraySlice<UInt8>) -> Bool) -> (Int, Int) {
        text.withUnsafeBufferPointer { p in
            let s = Scanner(p: p, end: p.count)
            var decided = 0, blocks = 0
            for b in stride(from: 0, to: p.count, by: 64) where counted(text[b..<min(text.count, b + 64)]) {
                blocks += 1
                if M.block(s, b) != nil { decided += 1 }
            }
            return (decided, blocks)
        }
    }

    func scalarEnds(_ text: [UInt8], _ pattern: SplitPattern) -> [Int] {
        text.withUnsafeBufferPointer { p in
            let s = Scanner(p: p, end: p.count)
            var ends: [Int] = []
            var i = 0
            while i < p.count {
                switch pattern {
                case .gpt2: i = s.gpt2(i)
                case .cl100k: i = s.cl100k(i, maxDigits: 3)
                case .qwen2: i = s.cl100k(i, maxDigits: 1)
                case .o200k: i = s.o200k(i)
                }
                ends.append(i)
            }
            return ends
        }
    }

    func testGPT2BlockStartsEqualTheScalarScanner() {
        check(GPT2Starts.self, .gpt2, lineBreaks: true)
    }

    /// Text that is mostly not ASCII: the masks with each character's class (PieceStarts+NonASCII.swift).
    static let scriptAtoms: [[UInt8]] = [
        "中文", "的", "是", "。", "，", "、", "“", "”", "《", "》", "（", "）", "：", "！", "１２", "３", "Ｚ", "ｗｏｒｄ",
        "\u{3000}", "\u{3000}\u{3000}", "\u{00A0}", "привет", " мир", "é", "café", "Ⅻ", "²", "½", "٣", "—", "…", "€",
        "😀", "𝔘", "𠀀", "e\u{0301}", "\u{0301}", "\u{200B}", "カタカナ", "ひらがな", "한국어", "ไทย", "'s", "’s", " '", "'中",
        "中's", "。't", "\u{3000}'d", "a",
        // Lead bytes E4–E9 (ideographs by their leads), and the hexagram symbols among them (E4 B7).
        "一", "\u{4DC0}", "\u{4DFF}", "\u{4DBF}", "\u{9FFF}", "\u{A000}", "\u{3400}", "中\u{4DC0}文",
        // cl100k: an O character as a letter run's prefix, line breaks after one, digits by threes.
        "“中", "(中", "((中", " (中", "。\n", "，\n\n", "。\r\n  ", "中\n\n  文", "中1234567文", " 12", "'ſ", "'ſx", "\n",
        "\n\n", " \n", "中", "文字", "…中", "—x", "«word»", " ", "  ", "\n", "\t", "1", "42", ".", " (", "x", " word", "\r\n",
    ].map { Array($0.utf8) }

    func testGPT2BlockStartsEqualTheScalarScannerOnNonASCIIText() {
        checkNonASCII(GPT2Starts.self, .gpt2)
    }

    func testCL100kBlockStartsEqualTheScalarScannerOnNonASCIIText() {
        checkNonASCII(CL100kStarts.self, .cl100k)
    }

    func testQwen2BlockStartsEqualTheScalarScanner() {
        check(Qwen2Starts.self, .qwen2, lineBreaks: true)
        check(Qwen2Starts.self, .qwen2, lineBreaks: false)
        checkNonASCII(Qwen2Starts.self, .qwen2)
    }

    /// Every block edge through short non-ASCII snippets: each snippet placed so that a block
    /// starts at each of its bytes, between fillers of several kinds.
    func testBlockEdgesInsideNonASCIISnippets() {
        let snippets: [String] = [
            "。\n\n中", "，\r\n文", "“中文”", "(中", "((中", " (中", "—中", "\u{3000}中", "\u{3000}\n中", "中\u{3000}\u{3000}x",
            "中 文", "中  文", "中\t文", "😀中", "中😀", "é'ſx", "中's", "。'T", "x\u{0301}中", "٣٤٥6", "中123", "１２３4",
            "\u{4DC0}中", "中\u{4DFF}", "«a»\n", "…\n  x", "中\n\n  文", "。\n \nx", "，\r\n\t\n中", "“\n \n中",
        ]
        let fillers: [String] = ["中文", "ab", " ", "x\n", "。"]
        for pattern in [SplitPattern.gpt2, .cl100k, .qwen2] {
            for snippet in snippets {
                for filler in fillers {
                    for pad: UInt8 in [0x2E, 0x20, 0x61, 0x0A] {
                    for offset in 0..<Array(snippet.utf8).count {
                        // Fillers, then `pad` up to the snippet so that it starts `offset` bytes
                        // before the block at 128.
                        var text = [UInt8]()
                        while text.count < 128 - offset - 8 { text += Array(filler.utf8) }
                        while text.count < 128 - offset { text.append(pad) }
                        text += Array(snippet.utf8)
                        while text.count < 256 { text += Array(filler.utf8) }
                        let expected = scalarEnds(text, pattern)
                        let got = switch pattern {
                        case .gpt2: blockEnds(text, GPT2Starts.self)
                        case .cl100k: blockEnds(text, CL100kStarts.self)
                        default: blockEnds(text, Qwen2Starts.self)
                        }
                        XCTAssertEqual(got, expected, "\(pattern) \(snippet.debugDescription) after \(filler.debugDescription) and \(pad), offset \(offset)")
                    }
                    }
                }
            }
        }
    }

    /// Long pieces the block masks walk to an undecided block (`StartMasks.end` goes on from
    /// the piece's last character before it, `runEnd`): runs of letters, CJK, digits,
    /// punctuation and white space of 8 to 400 bytes, after nothing, a space, an apostrophe or
    /// punctuation, ending the text or followed by an ideographic space, a line break, a
    /// contraction, a digit or a letter, at every offset in a block.
    func testLongPiecesIntoUndecidedBlocks() {
        let runs: [String] = ["a", "中", "é", "ж", "7", "٣", ".", "—", " ", "\n", "中a", "ab中"]
        let before: [String] = ["", " ", "'", "(", "x", "中"]
        let after: [String] = ["", "\u{3000}", "\n", "'s", "5", "z", "。", "\u{3000}x"]
        var rng = SeededRandom(seed: 66)
        var checked = 0
        for pattern in [SplitPattern.gpt2, .cl100k, .qwen2] {
            for run in runs {
                for b in before {
                    for a in after {
                        let lead = Int(rng.next() % 64), bytes = 8 + Int(rng.next() % 400)
                        var text = [UInt8](repeating: 0x61, count: lead) + Array(b.utf8)
                        let unit = Array(run.utf8)
                        var body: [UInt8] = []
                        while body.count < bytes { body += unit }
                        text += body + Array(a.utf8)
                        let same = switch pattern {
                        case .gpt2: sameEnds(text, GPT2Starts.self, pattern, round: checked)
                        case .cl100k: sameEnds(text, CL100kStarts.self, pattern, round: checked)
                        default: sameEnds(text, Qwen2Starts.self, pattern, round: checked)
                        }
                        guard same else { return }
                        checked += 1
                    }
                }
            }
        }
        XCTAssertEqual(checked, 3 * 12 * 6 * 8)
    }

    func checkNonASCII<M: StartMasks>(_ masks: M.Type, _ pattern: SplitPattern) {
        var rng = SeededRandom(seed: 65)
        var decided = 0, nonASCIIBlocks = 0
        for round in 0..<300 {
            var text: [UInt8] = []
            let bytes = 100 + Int(rng.next() % 3000)
            while text.count < bytes {
                text += PieceStartsTests.scriptAtoms[Int(rng.next() % UInt64(PieceStartsTests.scriptAtoms.count))]
            }
            guard sameEnds(text, M.self, pattern, round: round) else { return }
            let (d, n) = decidedBlocks(text, M.self) { $0.contains { $0 >= 0x80 } }
            decided += d
            nonASCIIBlocks += n
        }
        // Many blocks hold a non-ASCII space or number here: the rest must be decided.
        XCTAssertGreaterThan(Double(decided) / Double(nonASCIIBlocks), 0.05, "\(pattern)")
    }

    func testCL100kBlockStartsEqualTheScalarScanner() {
        check(CL100kStarts.self, .cl100k, lineBreaks: true)
        check(CL100kStarts.self, .cl100k, lineBreaks: false)
    }

    func check<M: StartMasks>(_ masks: M.Type, _ pattern: SplitPattern, lineBreaks: Bool) {
        var rng = SeededRandom(seed: 64)
        var decided = 0, blocks = 0
        for round in 0..<400 {
            var text = randomText(&rng, bytes: 200 + Int(rng.next() % 3000))
            if !lineBreaks { text = text.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 } }
            guard sameEnds(text, M.self, pattern, round: round) else { return }
            let (d, n) = decidedBlocks(text, M.self) { _ in true }
            decided += d
            blocks += n
        }
        // The texts must exercise the masks, not only the scanner.
        XCTAssertGreaterThan(Double(decided) / Double(blocks), lineBreaks ? 0.1 : 0.3, "\(pattern)")
    }

    func testSSE2MasksEqualSWARMasks() {
        #if arch(x86_64)
        var rng = SeededRandom(seed: 3)
        var block = [UInt8](repeating: 0, count: 64)
        for _ in 0..<5000 {
            for k in 0..<64 {
                // Mostly the ASCII range, with every byte value possible.
                block[k] = rng.next() % 5 == 0 ? UInt8(rng.next() % 256) : UInt8(rng.next() % 128)
            }
            block.withUnsafeBytes { b in
                let a = ByteClassMasks.sse2(b.baseAddress!), w = ByteClassMasks.swar(b.baseAddress!)
                XCTAssertEqual(a.letter, w.letter)
                XCTAssertEqual(a.digit, w.digit)
                XCTAssertEqual(a.space, w.space)
                XCTAssertEqual(a.blank, w.blank)
                XCTAssertEqual(a.lineBreak, w.lineBreak)
                XCTAssertEqual(a.apostrophe, w.apostrophe)
                XCTAssertEqual(a.nonASCII, w.nonASCII)
            }
        }
        #endif
    }

    /// The masks' classes are the class table's (which the scalar scanner uses).
    func testMasksAgreeWithTheClassTable() {
        var block = [UInt8](repeating: 0, count: 64)
        for start in stride(from: 0, to: 256, by: 64) {
            for k in 0..<64 { block[k] = UInt8(start + k) }
            block.withUnsafeBytes { b in
                let m = ByteClassMasks.swar(b.baseAddress!)
                for k in 0..<64 {
                    let c = ASCIIClass.table[start + k]
                    let bit: UInt64 = 1 << UInt64(k)
                    XCTAssertEqual(m.letter & bit != 0, c == ASCIIClass.letter, "byte \(start + k)")
                    XCTAssertEqual(m.digit & bit != 0, c == ASCIIClass.digit, "byte \(start + k)")
                    XCTAssertEqual(m.space & bit != 0, c == ASCIIClass.space, "byte \(start + k)")
                    XCTAssertEqual(m.nonASCII & bit != 0, start + k >= 0x80, "byte \(start + k)")
                    XCTAssertEqual(m.lineBreak & bit != 0, start + k == 0x0A || start + k == 0x0D, "byte \(start + k)")
                    XCTAssertEqual(m.blank & bit != 0, start + k == 0x20, "byte \(start + k)")
                }
            }
        }
    }
}

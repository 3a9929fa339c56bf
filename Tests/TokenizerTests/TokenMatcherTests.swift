// The added-token matcher's scans (AddedTokens.swift) against plain byte-by-byte ones on
// seeded random texts: `findPair` (tokens that all begin with the same two bytes, as pythia's
// space runs) and the leftmost-longest split it feeds.

import XCTest
@testable import Tokenizer

final class TokenMatcherTests: XCTestCase {
    func testFindPairEqualsAByteByByteScan() {
        var rng = SeededRandom(seed: 17)
        let alphabet = Array("  ab\n".utf8)
        for _ in 0..<300 {
            let n = Int(rng.next() % 40)
            let text = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            text.withUnsafeBufferPointer { p in
                for from in 0...n {
                    var expected: Int?
                    var i = from
                    while i + 1 < n { if p[i] == 0x20 && p[i + 1] == 0x20 { expected = i; break }; i += 1 }
                    XCTAssertEqual(TokenMatcher.findPair(p, from: from, 0x20, 0x20), expected, "\(text) from \(from)")
                }
            }
        }
    }

    /// Tokens of 2–5 spaces: the split is leftmost-longest, as a greedy scan finds it.
    func testSpaceRunsSplitLeftmostLongest() {
        let tokens = (2...5).map { k in (bytes: [UInt8](repeating: 0x20, count: k),
                                         token: AddedToken(id: UInt32(100 + k), content: String(repeating: " ", count: k), special: false)) }
        let matcher = TokenMatcher(tokens)
        var rng = SeededRandom(seed: 23)
        for _ in 0..<300 {
            let n = Int(rng.next() % 60)
            let text = (0..<n).map { _ in rng.next() % 3 == 0 ? UInt8(ascii: "x") : 0x20 }
            var got: [(Int, Int, UInt32)] = []
            text.withUnsafeBufferPointer { p in matcher.split(p) { got.append(($0, $1, $2)) } }
            // Reference: at each position the longest run of 2–5 spaces, else one byte of text.
            var expected: [(Int, Int, UInt32)] = []
            var textStart = 0, i = 0
            while i < n {
                var run = 0
                while i + run < n && text[i + run] == 0x20 && run < 5 { run += 1 }
                if run >= 2 {
                    if textStart < i { expected.append((textStart, i, TokenMatcher.textPiece)) }
                    expected.append((i, i + run, UInt32(100 + run)))
                    i += run
                    textStart = i
                } else {
                    i += 1
                }
            }
            if textStart < n { expected.append((textStart, n, TokenMatcher.textPiece)) }
            XCTAssertEqual(got.map { "\($0)" }, expected.map { "\($0)" }, String(decoding: text, as: UTF8.self))
        }
    }
}

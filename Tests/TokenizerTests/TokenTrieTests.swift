// The backtracking encoder's trie (TokenTrie.swift) against a brute-force longest prefix: the
// token and its length.

import XCTest
@testable import Tokenizer

final class TokenTrieTests: XCTestCase {
    /// The longest token of `tokens` (by id) that is a prefix of `text`, or noId.
    func bruteForce(_ tokens: [[UInt8]?], _ ids: [UInt32], _ text: ArraySlice<UInt8>) -> UInt32 {
        var best = BPEModel.noId, bestLength = 0
        for id in ids {
            guard let t = tokens[Int(id)], t.count > bestLength, text.starts(with: t) else { continue }
            best = id
            bestLength = t.count
        }
        return best
    }

    /// Seeded random vocabularies over a small alphabet, from a few long tokens (the build's
    /// child table starts at four slots a token and must double many times) to many short ones,
    /// some ids left out of the trie; every offset of random texts is checked.
    func testLongestPrefixMatchesBruteForce() throws {
        try checkAgainstBruteForce(alphabet: [0x61, 0x62, 0x63], seed: 31)
    }

    /// The same over bytes that make three-byte UTF-8 characters (leads E4, E5, EF; continuation
    /// bytes 80, 81, BF) and bytes that break them (A and a: 0x41 has the low bits of 0x81, so a
    /// walk that took it for a continuation byte would read the wrong character's node):
    /// characters whole, cut short, and tokens that end inside one, as byte-level vocabularies
    /// have, through the trie's dense three-byte array.
    func testLongestPrefixOverThreeByteCharacters() throws {
        try checkAgainstBruteForce(alphabet: [0xE4, 0xE5, 0xEF, 0x80, 0x81, 0xBF, 0x41, 0x61], seed: 32)
    }

    func checkAgainstBruteForce(alphabet: [UInt8], seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let letters = UInt64(alphabet.count)
        for (count, longest) in [(3, 300), (10, 60), (200, 12), (2000, 6)] {
            var seen = Set<[UInt8]>()
            var tokens: [[UInt8]?] = []
            for _ in 0..<count {
                let n = 1 + Int(rng.next() % UInt64(longest))
                let t = (0..<n).map { _ in alphabet[Int(rng.next() % letters)] }
                if seen.insert(t).inserted { tokens.append(t) } else { tokens.append(nil) }
            }
            let store = TokenStore(tokens)
            let ids = tokens.indices.filter { tokens[$0] != nil && rng.next() % 5 != 0 }.map { UInt32($0) }
            let trie = try XCTUnwrap(TokenTrie(store: store, ids: ids))
            for _ in 0..<4 {
                let text = (0..<(1 + Int(rng.next() % 200))).map { _ in alphabet[Int(rng.next() % letters)] }
                text.withUnsafeBufferPointer { p in
                    guard let base = p.baseAddress else { return }
                    for k in 0..<text.count {
                        let expected = bruteForce(tokens, ids, text[k...])
                        XCTAssertEqual(trie.longestPrefix(base + k, text.count - k), expected, "\(count) tokens, offset \(k)")
                        // The length of the match, from the walk's depth.
                        let match = trie.longestMatch(base + k, text.count - k)
                        XCTAssertEqual(match.id, expected)
                        XCTAssertEqual(match.length, expected == BPEModel.noId ? 0 : tokens[Int(expected)]?.count ?? -1,
                                       "\(count) tokens, offset \(k): length")
                    }
                }
            }
        }
    }
}

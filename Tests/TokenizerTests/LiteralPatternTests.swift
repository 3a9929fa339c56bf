// The linear-time searches for patterns that come from tokenizer files, against naive searches on
// seeded random inputs over a two-letter alphabet (where overlaps and near-misses are common).

import XCTest
@testable import Tokenizer

final class LiteralPatternTests: XCTestCase {
    /// Leftmost non-overlapping occurrences, naively.
    func naiveMatches(_ text: [UInt8], _ pattern: [UInt8]) -> [Int] {
        var out: [Int] = []
        var i = 0
        while i + pattern.count <= text.count {
            if Array(text[i..<(i + pattern.count)]) == pattern { out.append(i); i += pattern.count } else { i += 1 }
        }
        return out
    }

    func testKMPEqualsNaiveSearch() {
        var rng = SeededRandom(seed: 5)
        for _ in 0..<2000 {
            let pattern = (0..<Int.random(in: 1...5, using: &rng)).map { _ in UInt8.random(in: 0x61...0x62, using: &rng) }
            let text = (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0x61...0x62, using: &rng) }
            var got: [Int] = []
            text.withUnsafeBufferPointer { LiteralPattern(pattern).forEachMatch(in: $0) { got.append($0) } }
            XCTAssertEqual(got, naiveMatches(text, pattern), "\(pattern) in \(text)")
        }
        // A pattern that makes a naive search quadratic: found once, at the end.
        let long = [UInt8](repeating: 0x61, count: 5000) + [0x62]
        let text = [UInt8](repeating: 0x61, count: 200_000) + [0x62]
        var found: [Int] = []
        text.withUnsafeBufferPointer { LiteralPattern(long).forEachMatch(in: $0) { found.append($0) } }
        XCTAssertEqual(found, [text.count - long.count])
    }

    func testPrefixMatcherTakesTheLongest() {
        var rng = SeededRandom(seed: 9)
        for _ in 0..<500 {
            let entries = (0..<Int.random(in: 1...6, using: &rng)).map { k in
                ((0..<Int.random(in: 1...4, using: &rng)).map { _ in UInt8.random(in: 0x61...0x62, using: &rng) }, UInt32(k))
            }
            let matcher = PrefixMatcher(entries.map { (bytes: $0.0, id: $0.1) })
            let text = (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0x61...0x62, using: &rng) }
            var want: (Int, UInt32)?
            for (bytes, id) in entries where text.starts(with: bytes) {
                if want == nil || bytes.count > want!.0 { want = (bytes.count, id) }
            }
            let got = text.withUnsafeBufferPointer { matcher.longestMatch($0.baseAddress!, $0.count) }
            XCTAssertEqual(got?.length, want?.0, "\(entries) at \(text)")
            if let g = got, let w = want {
                // Equal entries keep the first id.
                XCTAssertEqual(entries.first { $0.0.count == g.length && text.starts(with: $0.0) }?.1, w.1)
                XCTAssertEqual(g.id, w.1)
            }
        }
    }
}

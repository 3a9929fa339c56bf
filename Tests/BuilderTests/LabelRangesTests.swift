// LabelRanges: normalization, truncation and the per-position walk, against a plain Bool mask.

import XCTest
@testable import Builder

final class LabelRangesTests: XCTestCase {
    func mask(_ l: LabelRanges, _ n: Int) -> [Bool] {
        var out: [Bool] = []
        l.forEach(count: n) { i, on in XCTAssertEqual(i, out.count); out.append(on) }
        return out
    }

    func testNormalizesSortsAndMerges() {
        XCTAssertEqual(LabelRanges([5..<7, 0..<0, 1..<3, 2..<4, 7..<8]).ranges, [1..<4, 5..<8])
        XCTAssertEqual(LabelRanges.suffix(from: 4, count: 4).ranges, [])
        XCTAssertEqual(LabelRanges([1..<4, 5..<8]).count, 6)
    }

    func testRestrictedMatchesSlicingAMask() {
        var seeded = SeededRandom(seed: 7)
        for _ in 0..<500 {
            let n = Int.random(in: 0...30, using: &seeded)
            var ranges: [Range<Int>] = []
            for _ in 0..<Int.random(in: 0...4, using: &seeded) {
                let a = Int.random(in: 0...n, using: &seeded), b = Int.random(in: 0...n, using: &seeded)
                ranges.append(min(a, b)..<max(a, b))
            }
            let l = LabelRanges(ranges)
            let full = mask(l, n)
            var expected = [Bool](repeating: false, count: n)
            for r in ranges { for i in r { expected[i] = true } }
            XCTAssertEqual(full, expected)
            let a = Int.random(in: 0...n, using: &seeded), b = Int.random(in: 0...n, using: &seeded)
            let kept = min(a, b)..<max(a, b)
            let r = l.restricted(to: kept)
            XCTAssertEqual(mask(r, kept.count), Array(full[kept]))
            // One representation per set of positions (a single range is kept apart from the
            // others), so == compares positions; the range walk agrees with the array.
            XCTAssertEqual(r, LabelRanges(r.ranges))
            XCTAssertEqual((0..<l.rangeCount).map(l.range), l.ranges)
        }
    }
}

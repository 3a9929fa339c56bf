// A set of Unicode scalar values as a sorted list of disjoint, non-adjacent closed ranges.
//
// Character classes are built from these at compile time (`[a-z\p{L}&&[^q]]`, case closure,
// negation); the matcher then uses the bitmap form in `CharClass`. Every operation is linear in
// the number of ranges (a few thousand at most for Unicode properties).

/// A set of scalar values (surrogates are never members of a class built from text, but ranges
/// may span them; text never contains them).
struct ScalarSet: Hashable, Sendable {
    /// Flattened ranges: `[lo0, hi0, lo1, hi1, ...]`, sorted, disjoint and non-adjacent.
    private(set) var bounds: [UInt32]

    static let maxScalar: UInt32 = 0x10FFFF
    static let empty = ScalarSet(bounds: [])
    static let all = ScalarSet(bounds: [0, maxScalar])

    init(bounds: [UInt32]) { self.bounds = bounds }

    /// A set from ranges in any order, overlapping or not.
    init(ranges: [ClosedRange<UInt32>]) {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var b: [UInt32] = []
        b.reserveCapacity(sorted.count * 2)
        for r in sorted {
            if let last = b.last, r.lowerBound <= last &+ 1 {
                if r.upperBound > last { b[b.count - 1] = r.upperBound }
            } else {
                b.append(r.lowerBound)
                b.append(r.upperBound)
            }
        }
        bounds = b
    }

    init(scalar: UInt32) { bounds = [scalar, scalar] }

    var isEmpty: Bool { bounds.isEmpty }
    var rangeCount: Int { bounds.count / 2 }

    var ranges: [ClosedRange<UInt32>] {
        stride(from: 0, to: bounds.count, by: 2).map { bounds[$0]...bounds[$0 + 1] }
    }

    /// - Complexity: O(log ranges).
    func contains(_ v: UInt32) -> Bool {
        var lo = 0, hi = bounds.count / 2
        while lo < hi {
            let mid = (lo + hi) / 2
            if bounds[2 * mid + 1] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo < bounds.count / 2 && bounds[2 * lo] <= v
    }

    /// The set of all scalars not in `self` (over 0...U+10FFFF).
    var inverted: ScalarSet {
        var b: [UInt32] = []
        var next: UInt32 = 0
        var i = 0
        while i < bounds.count {
            if bounds[i] > next { b.append(next); b.append(bounds[i] - 1) }
            next = bounds[i + 1] &+ 1
            i += 2
        }
        if next <= ScalarSet.maxScalar && !(bounds.last == ScalarSet.maxScalar) {
            b.append(next)
            b.append(ScalarSet.maxScalar)
        }
        return ScalarSet(bounds: b)
    }

    func union(_ other: ScalarSet) -> ScalarSet {
        if other.isEmpty { return self }
        if isEmpty { return other }
        return ScalarSet(ranges: ranges + other.ranges)
    }

    func intersection(_ other: ScalarSet) -> ScalarSet {
        var b: [UInt32] = []
        var i = 0, j = 0
        while i < bounds.count && j < other.bounds.count {
            let lo = max(bounds[i], other.bounds[j])
            let hi = min(bounds[i + 1], other.bounds[j + 1])
            if lo <= hi { b.append(lo); b.append(hi) }
            if bounds[i + 1] < other.bounds[j + 1] { i += 2 } else { j += 2 }
        }
        return ScalarSet(bounds: b)
    }

    /// Only the members below 128.
    var asciiMembers: ScalarSet { intersection(ScalarSet(bounds: [0, 127])) }
}

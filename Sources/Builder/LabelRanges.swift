// Which tokens of an example are trained on. Instruction rows label one suffix (the
// completion); chat rows label each assistant turn; `--train-on-prompt` labels everything.
// Every position outside the ranges gets the label -100.

/// The labelled token positions of one example: sorted, disjoint, non-empty ranges.
///
///     LabelRanges.suffix(from: 3, count: 5).ranges   // [3..<5]
///     LabelRanges([1..<2, 4..<6]).restricted(to: 2..<6).ranges   // [2..<4]
struct LabelRanges: Equatable, Sendable {
    private(set) var ranges: [Range<Int>]

    /// Normalizes `ranges`: drops empty ones, sorts, and merges overlapping or touching ones.
    init(_ ranges: [Range<Int>]) {
        if ranges.count <= 1 {
            // One range (a labelled suffix, the common case): nothing to sort or merge.
            self.ranges = ranges.first.map { $0.isEmpty ? [] : ranges } ?? []
            return
        }
        var sorted = ranges.filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        merged.reserveCapacity(sorted.count)
        for r in sorted {
            if let last = merged.last, r.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        sorted = []
        self.ranges = merged
    }

    /// Positions `start..<count` (nothing when `start >= count`).
    static func suffix(from start: Int, count: Int) -> LabelRanges {
        LabelRanges(start < count ? [start..<count] : [])
    }

    static let none = LabelRanges([])

    /// How many positions are labelled.
    var count: Int { ranges.reduce(0) { $0 + $1.count } }

    var isEmpty: Bool { ranges.isEmpty }

    /// The ranges within `kept`, renumbered so that `kept.lowerBound` becomes 0 (truncation).
    func restricted(to kept: Range<Int>) -> LabelRanges {
        var out: [Range<Int>] = []
        for r in ranges {
            let lo = max(r.lowerBound, kept.lowerBound), hi = min(r.upperBound, kept.upperBound)
            if lo < hi { out.append((lo - kept.lowerBound)..<(hi - kept.lowerBound)) }
        }
        return LabelRanges(out)
    }

    /// Calls `body(position, labelled)` for positions `0..<count`, in order.
    /// - Complexity: O(count + ranges).
    func forEach(count: Int, _ body: (Int, Bool) -> Void) {
        var i = 0
        for r in ranges {
            while i < min(r.lowerBound, count) { body(i, false); i += 1 }
            while i < min(r.upperBound, count) { body(i, true); i += 1 }
        }
        while i < count { body(i, false); i += 1 }
    }
}

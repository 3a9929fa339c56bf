// Which tokens of an example are trained on. Instruction rows label one suffix (the
// completion); chat rows label each assistant turn; `--train-on-prompt` labels everything.
// Every position outside the ranges gets the label -100.

/// The labelled token positions of one example: sorted, disjoint, non-empty ranges.
///
///     LabelRanges.suffix(from: 3, count: 5).ranges   // [3..<5]
///     LabelRanges([1..<2, 4..<6]).restricted(to: 2..<6).ranges   // [2..<4]
struct LabelRanges: Equatable, Sendable {
    /// The first range (empty when there are none), then the others. One range is the common
    /// case (a labelled suffix) and allocates nothing: an array for it cost ~250 instructions a
    /// short row, its allocation on the worker and its release on the writing thread.
    private var head: Range<Int> = 0..<0
    private var tail: [Range<Int>] = []

    /// Normalizes `ranges`: drops empty ones, sorts, and merges overlapping or touching ones.
    init(_ ranges: [Range<Int>]) {
        if ranges.count <= 1 {
            // One range: nothing to sort or merge.
            if let only = ranges.first, !only.isEmpty { head = only }
            return
        }
        let sorted = ranges.filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        merged.reserveCapacity(sorted.count)
        for r in sorted {
            if let last = merged.last, r.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        guard let first = merged.first else { return }
        head = first
        tail = Array(merged.dropFirst())
    }

    /// The one range `range` (nothing when it is empty).
    private init(only range: Range<Int>) {
        if !range.isEmpty { head = range }
    }

    /// The ranges, in order (an array made for the call: `rangeCount` and `range(_:)` make none).
    var ranges: [Range<Int>] { head.isEmpty ? [] : [head] + tail }

    /// How many ranges there are.
    var rangeCount: Int { head.isEmpty ? 0 : 1 + tail.count }

    /// Range `k` (`0..<rangeCount`).
    func range(_ k: Int) -> Range<Int> { k == 0 ? head : tail[k - 1] }

    /// Positions `start..<count` (nothing when `start >= count`).
    static func suffix(from start: Int, count: Int) -> LabelRanges {
        LabelRanges(only: start < count ? start..<count : 0..<0)
    }

    static let none = LabelRanges([])

    /// How many positions are labelled.
    var count: Int { tail.reduce(head.count) { $0 + $1.count } }

    var isEmpty: Bool { head.isEmpty }

    /// The ranges within `kept`, renumbered so that `kept.lowerBound` becomes 0 (truncation).
    func restricted(to kept: Range<Int>) -> LabelRanges {
        /// `r` within `kept`, renumbered (empty when they do not meet).
        func clip(_ r: Range<Int>) -> Range<Int> {
            let lo = max(r.lowerBound, kept.lowerBound), hi = min(r.upperBound, kept.upperBound)
            return lo < hi ? (lo - kept.lowerBound)..<(hi - kept.lowerBound) : 0..<0
        }
        if tail.isEmpty { return LabelRanges(only: clip(head)) }
        return LabelRanges(ranges.map(clip))
    }

    /// Calls `body(position, labelled)` for positions `0..<count`, in order.
    /// - Complexity: O(count + ranges).
    func forEach(count: Int, _ body: (Int, Bool) -> Void) {
        var i = 0
        for k in 0..<rangeCount {
            let r = range(k)
            while i < min(r.lowerBound, count) { body(i, false); i += 1 }
            while i < min(r.upperBound, count) { body(i, true); i += 1 }
        }
        while i < count { body(i, false); i += 1 }
    }
}

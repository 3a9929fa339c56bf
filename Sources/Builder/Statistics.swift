// Length statistics: numpy's default percentile (linear interpolation between closest ranks).

public struct LengthSummary: Sendable, Equatable {
    public var count: Int
    public var min: Int
    public var max: Int
    public var mean: Double
    public var p50: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double
    public var total: Int

    /// Summarizes `values` (sorted in place).
    public init(_ values: inout [Int]) {
        sortCounts(&values)
        count = values.count
        min = values.first ?? 0
        max = values.last ?? 0
        total = values.reduce(0, +)
        mean = count == 0 ? 0 : Double(total) / Double(count)
        p50 = percentile(sorted: values, 50)
        p90 = percentile(sorted: values, 90)
        p95 = percentile(sorted: values, 95)
        p99 = percentile(sorted: values, 99)
    }
}

/// `numpy.percentile(values, q)` with the default method ("linear"): the value at rank
/// (n - 1) · q / 100, interpolated between its neighbours.
public func percentile(sorted values: [Int], _ q: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    // numpy's "linear" method: virtual index = (n − 1) · (q / 100), gamma = index − floor(index),
    // evaluated in the same order so the result matches to the last bit.
    let quantile = q / 100
    let rank = Double(values.count - 1) * quantile
    let lo = Swift.max(0, Swift.min(Int(rank.rounded(.down)), values.count - 1))
    let hi = Swift.min(lo + 1, values.count - 1)
    let frac = rank - rank.rounded(.down)
    // numpy's _lerp: a + (b - a) * t, switching form for t >= 0.5 to stay exact at the ends.
    let a = Double(values[lo]), b = Double(values[hi])
    let d = b - a
    return frac >= 0.5 ? b - d * (1 - frac) : a + d * frac
}

/// Sorts token counts: by counting when they are non-negative and the largest is not far above
/// their number (rows' lengths: O(n + max) and ~20 instructions a value, where `sort()` took
/// ~320 a row of a 146 k-row build, on the thread that finishes it), else with `sort()`.
func sortCounts(_ values: inout [Int]) {
    guard let top = values.max(), let bottom = values.min(), bottom >= 0, top <= Swift.max(1 << 16, 4 * values.count) else {
        values.sort()
        return
    }
    var counts = [Int](repeating: 0, count: top + 1)
    for v in values { counts[v] += 1 }
    var at = 0
    for (v, c) in counts.enumerated() where c > 0 {
        for k in at..<(at + c) { values[k] = v }
        at += c
    }
}

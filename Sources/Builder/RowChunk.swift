// Rows on their way to the writers: a chunk of rows copied into one buffer, in the spill
// file's layout (`UInt32 count, UInt32 r, r × (start, end)`, then the ids), read through
// pointers. Pass 2 fills a chunk from the row store (4,096 rows at a time, in the split's
// order) and the rows written during pass 1 fill one per batch (DirectOutput).
//
// Why: the writers used to take each row as two Swift arrays (its ids and its labelled
// ranges). For 42 k short rows of en (8 MB), reading them back that way cost ~120 M
// instructions of a 270 M pass 2 (callgrind): two allocations, a copy and two releases a row.
// Here a row is one copy into a buffer that is kept from chunk to chunk.

/// A row's labelled ranges as stored: (start, end) pairs of UInt32.
struct BoundPairs: RandomAccessCollection {
    let words: UnsafeBufferPointer<UInt32>
    var startIndex: Int { 0 }
    var endIndex: Int { words.count / 2 }
    subscript(k: Int) -> Range<Int> { Int(words[2 * k])..<Int(words[2 * k + 1]) }
}

/// Rows copied one after another into a buffer that is reused.
final class RowChunk: @unchecked Sendable {
    private var words: [UInt32] = []
    /// Where each row starts in `words`.
    private var starts: [Int] = []

    var count: Int { starts.count }

    func removeAll() {
        words.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
    }

    /// Adds a row: its ids and its labelled ranges as (start, end) pairs.
    func append(ids: UnsafeBufferPointer<UInt32>, bounds: UnsafeBufferPointer<UInt32>) {
        starts.append(words.count)
        words.append(UInt32(ids.count))
        words.append(UInt32(bounds.count / 2))
        words.append(contentsOf: bounds)
        words.append(contentsOf: ids)
    }

    /// Adds a row from its arrays.
    func append(ids: [UInt32], labels: LabelRanges) {
        starts.append(words.count)
        Self.encode(ids: ids, labels: labels, into: &words)
    }

    /// Appends a row in the row files' layout to `words` (also `SpillFile.append`).
    static func encode(ids: [UInt32], labels: LabelRanges, into words: inout [UInt32]) {
        words.append(UInt32(ids.count))
        words.append(UInt32(labels.ranges.count))
        for r in labels.ranges {
            words.append(UInt32(r.lowerBound))
            words.append(UInt32(r.upperBound))
        }
        words.append(contentsOf: ids)
    }

    /// Row `k`'s number of ids.
    func tokens(_ k: Int) -> Int { Int(words[starts[k]]) }

    /// Calls `body` with row `k`'s ids and labelled ranges (valid during the call only; the
    /// chunk must not change meanwhile, but any number of threads may read it).
    func withRow<R, E: Error>(_ k: Int, _ body: (UnsafeBufferPointer<UInt32>, BoundPairs) throws(E) -> R) throws(E) -> R {
        try words.withUnsafeBufferPointer { (w) throws(E) -> R in
            let at = starts[k]
            let n = Int(w[at]), r = Int(w[at + 1])
            return try body(UnsafeBufferPointer(rebasing: w[(at + 2 + 2 * r)..<(at + 2 + 2 * r + n)]),
                        BoundPairs(words: UnsafeBufferPointer(rebasing: w[(at + 2)..<(at + 2 + 2 * r)])))
        }
    }
}

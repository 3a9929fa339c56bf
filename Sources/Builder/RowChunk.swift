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
///
/// Raw memory, not arrays: each change to an array stored in a class is checked for exclusive
/// access at run time, and with the arrays' own uniqueness and capacity checks a short row's
/// copy cost ~600 instructions of pass 2 (callgrind, 42 k rows of en); here it is two copies.
final class RowChunk: @unchecked Sendable {
    private var words: UnsafeMutablePointer<UInt32>
    private var wordCount = 0, wordCapacity: Int
    /// Where each row starts in `words`.
    private var starts: UnsafeMutablePointer<Int>
    private var startCapacity: Int

    private(set) var count = 0

    init() {
        wordCapacity = 1 << 12
        words = .allocate(capacity: wordCapacity)
        startCapacity = 1 << 8
        starts = .allocate(capacity: startCapacity)
    }

    deinit {
        words.deallocate()
        starts.deallocate()
    }

    func removeAll() {
        wordCount = 0
        count = 0
    }

    /// Room for a row of `n` words: its start recorded, the words' room returned.
    private func reserveRow(_ n: Int) -> UnsafeMutablePointer<UInt32> {
        if count == startCapacity {
            startCapacity *= 2
            let grown = UnsafeMutablePointer<Int>.allocate(capacity: startCapacity)
            grown.moveInitialize(from: starts, count: count)
            starts.deallocate()
            starts = grown
        }
        if wordCount + n > wordCapacity {
            wordCapacity = max(2 * wordCapacity, wordCount + n)
            let grown = UnsafeMutablePointer<UInt32>.allocate(capacity: wordCapacity)
            grown.moveInitialize(from: words, count: wordCount)
            words.deallocate()
            words = grown
        }
        starts[count] = wordCount
        count += 1
        let row = words + wordCount
        wordCount += n
        return row
    }

    /// Adds a row: its ids and its labelled ranges as (start, end) pairs.
    func append(ids: UnsafeBufferPointer<UInt32>, bounds: UnsafeBufferPointer<UInt32>) {
        let row = reserveRow(2 + bounds.count + ids.count)
        row[0] = UInt32(ids.count)
        row[1] = UInt32(bounds.count / 2)
        if let b = bounds.baseAddress { (row + 2).update(from: b, count: bounds.count) }
        if let i = ids.baseAddress { (row + 2 + bounds.count).update(from: i, count: ids.count) }
    }

    /// Adds a row from its ids and labelled ranges.
    func append(ids: UnsafeBufferPointer<UInt32>, labels: LabelRanges) {
        let row = reserveRow(2 + 2 * labels.rangeCount + ids.count)
        let r = Self.writeHeader(count: ids.count, labels: labels, to: row)
        if let base = ids.baseAddress { (row + 2 + 2 * r).update(from: base, count: ids.count) }
    }

    /// Writes a row's first words in the row files' layout (its id count, its labelled ranges)
    /// at `row`, which has room for `2 + 2 × labels.rangeCount`; returns the number of ranges.
    @discardableResult
    static func writeHeader(count: Int, labels: LabelRanges, to row: UnsafeMutablePointer<UInt32>) -> Int {
        let r = labels.rangeCount
        row[0] = UInt32(count)
        row[1] = UInt32(r)
        for k in 0..<r {
            let range = labels.range(k)
            row[2 + 2 * k] = UInt32(range.lowerBound)
            row[3 + 2 * k] = UInt32(range.upperBound)
        }
        return r
    }

    /// Where row `k` starts (a checked index, as an array's would be).
    private func row(_ k: Int) -> UnsafeMutablePointer<UInt32> {
        precondition(k >= 0 && k < count, "row \(k) of a chunk of \(count)")
        return words + starts[k]
    }

    /// Row `k`'s number of ids.
    func tokens(_ k: Int) -> Int { Int(row(k)[0]) }

    /// Calls `body` with row `k`'s ids and labelled ranges (valid during the call only; the
    /// chunk must not change meanwhile, but any number of threads may read it).
    func withRow<R, E: Error>(_ k: Int, _ body: (UnsafeBufferPointer<UInt32>, BoundPairs) throws(E) -> R) throws(E) -> R {
        let at = row(k)
        let n = Int(at[0]), r = Int(at[1])
        return try body(UnsafeBufferPointer(start: at + 2 + 2 * r, count: n),
                        BoundPairs(words: UnsafeBufferPointer(start: at + 2, count: 2 * r)))
    }
}

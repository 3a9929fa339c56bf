// The kept rows between pass 1 and pass 2: this build's spill file, or the spill files of a
// merge's shards read as one.

import Foundation

/// Kept rows by index, in input order.
protocol RowStore: AnyObject {
    func openForReading() throws(OutputError)
    /// Calls `body(ids, labelBounds)` for consecutive rows, the labelled ranges as (start,
    /// end) pairs (valid during the call only).
    func forEachRow(_ range: Range<Int>, _ body: (UnsafeBufferPointer<UInt32>, UnsafeBufferPointer<UInt32>) throws(OutputError) -> Void) throws(OutputError)
    /// The bytes rows `range` take (reads are kept to about 16 MB).
    func byteCount(_ range: Range<Int>) -> Int
    func close()
    /// Deletes what only served this build (its spill file; never a shard's rows).
    func removeFiles()
}

extension RowStore {
    /// Consecutive rows, read together, as arrays.
    func rows(_ range: Range<Int>) throws(OutputError) -> [(ids: [UInt32], labels: LabelRanges)] {
        var out: [(ids: [UInt32], labels: LabelRanges)] = []
        out.reserveCapacity(range.count)
        try forEachRow(range) { ids, bounds in
            out.append((Array(ids), LabelRanges(Array(BoundPairs(words: bounds)))))
        }
        return out
    }

    /// Calls `body` with the ids of consecutive rows (valid during the call only).
    func forEachIds(_ range: Range<Int>, _ body: (UnsafeBufferPointer<UInt32>) throws(OutputError) -> Void) throws(OutputError) {
        try forEachRow(range) { ids, _ throws(OutputError) in try body(ids) }
    }

    /// Copies the rows at `indices`, in their order, into `chunk` (emptied first).
    func read(at indices: ArraySlice<Int>, into chunk: RowChunk) throws(OutputError) {
        chunk.removeAll()
        try forEachRun(indices) { (run) throws(OutputError) in
            try forEachRow(run) { ids, bounds throws(OutputError) in chunk.append(ids: ids, bounds: bounds) }
        }
    }

    /// Calls `body` with `indices` cut into runs of consecutive rows of at most 16 MB (or one
    /// row), in order: input order (`--test-size 0`) is read a run at a time, a shuffled split
    /// a row at a time.
    private func forEachRun(_ indices: ArraySlice<Int>, _ body: (Range<Int>) throws(OutputError) -> Void) throws(OutputError) {
        var k = indices.startIndex
        while k < indices.endIndex {
            let run = self.run(indices, from: k)
            try body(run)
            k += run.count
        }
    }

    /// The run of consecutive rows at `indices[k...]`: up to 16 MB, at least one row (a
    /// shuffled split's rows are runs of one, whose sizes are not looked up).
    private func run(_ indices: ArraySlice<Int>, from k: Int) -> Range<Int> {
        var j = k + 1
        if j < indices.endIndex && indices[j] == indices[k] + 1 {
            var bytes = byteCount(indices[k]..<(indices[k] + 1))
            while j < indices.endIndex && indices[j] == indices[j - 1] + 1 {
                bytes += byteCount(indices[j]..<(indices[j] + 1))
                if bytes > 16 << 20 { break }
                j += 1
            }
        }
        return indices[k]..<(indices[j - 1] + 1)
    }

    /// The rows at `indices`, in their order (`forEachRun`).
    func rows(at indices: ArraySlice<Int>) throws(OutputError) -> [(ids: [UInt32], labels: LabelRanges)] {
        var out: [(ids: [UInt32], labels: LabelRanges)] = []
        out.reserveCapacity(indices.count)
        try forEachRun(indices) { (run) throws(OutputError) in out += try rows(run) }
        return out
    }

    /// `forEachIds` over the rows at `indices`, in their order (`forEachRun`).
    func forEachIds(at indices: ArraySlice<Int>, _ body: (UnsafeBufferPointer<UInt32>) throws(OutputError) -> Void) throws(OutputError) {
        try forEachRun(indices) { (run) throws(OutputError) in try forEachIds(run, body) }
    }
}

extension SpillFile: RowStore {
    func removeFiles() { unlink(path) }
}

/// What pass 1 produced.
enum EncodedRows {
    /// Rows to split and write in pass 2.
    case spilled(RowStore)
    /// Already written, in input order (`--test-size 0`: DirectOutput).
    case written(DirectOutput)
}

/// The rows of several shards numbered as one input: shard k's row i is row `starts[k] + i`.
final class ShardRows: RowStore {
    let shards: [SpillFile]
    let starts: [Int]

    init(_ shards: [SpillFile]) {
        self.shards = shards
        var starts: [Int] = []
        var n = 0
        for s in shards {
            starts.append(n)
            n += s.offsets.count
        }
        self.starts = starts
    }

    func openForReading() throws(OutputError) {
        for s in shards { try s.openForReading() }
    }

    /// The shard holding row `index` (the last one starting at or before it: empty shards are skipped).
    /// - Complexity: O(log shards).
    private func shard(_ index: Int) -> Int {
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= index { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// Splits `range` at shard boundaries.
    private func pieces(_ range: Range<Int>) -> [(shard: Int, local: Range<Int>)] {
        var out: [(Int, Range<Int>)] = []
        var at = range.lowerBound
        while at < range.upperBound {
            let s = shard(at)
            let end = min(range.upperBound, starts[s] + shards[s].offsets.count)
            out.append((s, (at - starts[s])..<(end - starts[s])))
            at = end
        }
        return out
    }

    func forEachRow(_ range: Range<Int>, _ body: (UnsafeBufferPointer<UInt32>, UnsafeBufferPointer<UInt32>) throws(OutputError) -> Void) throws(OutputError) {
        for (s, local) in pieces(range) { try shards[s].forEachRow(local, body) }
    }

    func byteCount(_ range: Range<Int>) -> Int {
        let s = shard(range.lowerBound)
        if range.upperBound <= starts[s] + shards[s].offsets.count {   // within one shard: no pieces
            return shards[s].byteCount((range.lowerBound - starts[s])..<(range.upperBound - starts[s]))
        }
        return pieces(range).reduce(0) { $0 + shards[$1.shard].byteCount($1.local) }
    }

    func close() { for s in shards { s.close() } }

    func removeFiles() {}
}

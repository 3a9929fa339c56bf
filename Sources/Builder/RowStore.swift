// The kept rows between pass 1 and pass 2: this build's spill file, or the spill files of a
// merge's shards read as one.

import Foundation

/// Kept rows by index, in input order.
protocol RowStore: AnyObject {
    func openForReading() throws(OutputError)
    func row(_ index: Int) throws(OutputError) -> (ids: [UInt32], labels: LabelRanges)
    func close()
    /// Deletes what only served this build (its spill file; never a shard's rows).
    func removeFiles()
}

extension SpillFile: RowStore {
    func removeFiles() { unlink(path) }
}

/// What pass 1 produced.
enum EncodedRows {
    /// Rows to split and write in pass 2.
    case spilled(RowStore)
    /// Already written, in input order (pre-training outputs with `--test-size 0`).
    case written(TokenStreamWriter)
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

    /// - Complexity: O(log shards).
    func row(_ index: Int) throws(OutputError) -> (ids: [UInt32], labels: LabelRanges) {
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= index { lo = mid } else { hi = mid - 1 }
        }
        return try shards[lo].row(index - starts[lo])
    }

    func close() { for s in shards { s.close() } }

    func removeFiles() {}
}

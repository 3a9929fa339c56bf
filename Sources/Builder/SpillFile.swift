// The spill file between the passes of a build.

import Foundation

/// Kept rows on disk between the passes: per row `UInt32 count, UInt32 r, r × (UInt32 start,
/// UInt32 end)` (the labelled ranges), `count × UInt32` ids, with an 8-byte offset per row in memory.
final class SpillFile {
    let path: String
    private var writer: OutputFile?
    /// Where each row starts, in order.
    private(set) var offsets: [Int] = []
    private(set) var position = 0
    private var fd: Int32 = -1
    /// Where `pread` puts rows when the file is not mapped.
    private var scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    /// The file mapped for reading: pass 2 reads the rows of a shuffled split one at a time,
    /// and a `pread` each cost a system call and a copy (lamini_docs × 50: 70 k rows, ~0.1 s of
    /// the writing thread). Nil when the file could not be mapped: rows are then read with `pread`.
    private var mapped: UnsafeRawPointer?
    var isMapped: Bool { mapped != nil }

    init(path: String) throws(OutputError) {
        self.path = path
        writer = try OutputFile(path: path, writeBehind: false)
    }

    /// A finished spill file (a shard's `rows.bin`), for reading: its rows start at `offsets`.
    init(finished path: String, offsets: [Int], size: Int) {
        self.path = path
        self.offsets = offsets
        position = size
    }

    /// Writes a row: its first words (count, labelled ranges), then its ids from their block
    /// (little-endian hosts only, as the writers).
    func append(_ row: EncodedRow) throws(OutputError) {
        offsets.append(position)
        let headerWords = 2 + 2 * row.labels.rangeCount
        try withUnsafeTemporaryAllocation(of: UInt32.self, capacity: headerWords) { (header) throws(OutputError) in
            guard let base = header.baseAddress else { return }
            RowChunk.writeHeader(count: row.ids.count, labels: row.labels, to: base)
            try writer?.write(UnsafeRawBufferPointer(header))
        }
        try writer?.write(UnsafeRawBufferPointer(row.ids.buffer))
        position += 4 * (headerWords + row.ids.count)
    }

    func finishWriting() throws(OutputError) {
        try writer?.flush()
        writer = nil
    }

    func openForReading() throws(OutputError) {
        fd = open(path, O_RDONLY)
        if fd < 0 { throw OutputError(path: path, message: "cannot reopen the row file: \(String(cString: strerror(errno)))") }
        // Only a file holding every byte the rows need is mapped (a page past its end would
        // fault); a short one (a damaged shard) goes to `pread`, which reports it.
        var info = stat()
        guard position > 0, fstat(fd, &info) == 0, Int(info.st_size) >= position else { return }
        if let p = mmap(nil, position, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED {
            mapped = UnsafeRawPointer(p)
        }
    }

    /// Bytes rows `range` take in the file.
    func byteCount(_ range: Range<Int>) -> Int {
        (range.upperBound < offsets.count ? offsets[range.upperBound] : position) - offsets[range.lowerBound]
    }

    /// Calls `body(ids, labelBounds)` for consecutive rows, read from the mapping (or with one
    /// `pread`); the buffers are valid during the call only.
    func forEachRow(_ range: Range<Int>, _ body: (UnsafeBufferPointer<UInt32>, UnsafeBufferPointer<UInt32>) throws(OutputError) -> Void) throws(OutputError) {
        guard !range.isEmpty else { return }
        let start = offsets[range.lowerBound]
        let end = range.upperBound < offsets.count ? offsets[range.upperBound] : position
        let words: UnsafeBufferPointer<UInt32>
        if let mapped {
            words = UnsafeBufferPointer(start: (mapped + start).assumingMemoryBound(to: UInt32.self), count: (end - start) / 4)
        } else {
            let want = end - start
            if scratch.count < want {
                scratch.deallocate()
                scratch = .allocate(byteCount: want, alignment: 4)
            }
            guard pread(fd, scratch.baseAddress, want, off_t(start)) == want else {
                throw OutputError(path: path, message: "short read of the row file")
            }
            words = UnsafeBufferPointer(start: scratch.baseAddress?.assumingMemoryBound(to: UInt32.self), count: want / 4)
        }
        for index in range {
            let at = (offsets[index] - start) / 4
            let rowEnd = index + 1 < offsets.count ? offsets[index + 1] : position
            let n = Int(UInt32(littleEndian: words[at])), r = Int(UInt32(littleEndian: words[at + 1]))
            guard 8 + 8 * r + 4 * n == rowEnd - offsets[index] else {
                throw OutputError(path: path, message: "row \(index) is damaged (its header does not match its size)")
            }
            // A damaged shard's row file must not trap when its ranges are made (`BoundPairs`).
            for k in 0..<r where words[at + 2 + 2 * k] > words[at + 3 + 2 * k] {
                throw OutputError(path: path, message: "row \(index) is damaged (a labelled range ends before it starts)")
            }
            try body(UnsafeBufferPointer(rebasing: words[(at + 2 + 2 * r)..<(at + 2 + 2 * r + n)]),
                     UnsafeBufferPointer(rebasing: words[(at + 2)..<(at + 2 + 2 * r)]))
        }
    }

    deinit {
        close()
        scratch.deallocate()
    }

    func close() {
        if let mapped { munmap(UnsafeMutableRawPointer(mutating: mapped), position) }
        mapped = nil
        if fd >= 0 { Foundation.close(fd); fd = -1 }
    }
}

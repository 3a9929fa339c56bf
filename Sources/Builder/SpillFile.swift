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
    private var buffer: [UInt32] = []

    init(path: String) throws(OutputError) {
        self.path = path
        writer = try OutputFile(path: path)
    }

    /// A finished spill file (a shard's `rows.bin`), for reading: its rows start at `offsets`.
    init(finished path: String, offsets: [Int], size: Int) {
        self.path = path
        self.offsets = offsets
        position = size
    }

    func append(_ row: EncodedRow) throws(OutputError) {
        offsets.append(position)
        buffer.removeAll(keepingCapacity: true)
        buffer.append(UInt32(row.ids.count))
        buffer.append(UInt32(row.labels.ranges.count))
        for r in row.labels.ranges {
            buffer.append(UInt32(r.lowerBound))
            buffer.append(UInt32(r.upperBound))
        }
        buffer.append(contentsOf: row.ids)
        try writer?.write(littleEndian: buffer)
        position += buffer.count * 4
    }

    func finishWriting() throws(OutputError) {
        try writer?.flush()
        writer = nil
    }

    func openForReading() throws(OutputError) {
        fd = open(path, O_RDONLY)
        if fd < 0 { throw OutputError(path: path, message: "cannot reopen the row file: \(String(cString: strerror(errno)))") }
    }

    func row(_ index: Int) throws(OutputError) -> (ids: [UInt32], labels: LabelRanges) {
        var header: (UInt32, UInt32) = (0, 0)
        var off = offsets[index]
        try read(&header, at: off)
        off += 8
        let n = Int(header.0), r = Int(header.1)
        let end = index + 1 < offsets.count ? offsets[index + 1] : position
        guard 8 + 8 * r + 4 * n == end - offsets[index] else {
            throw OutputError(path: path, message: "row \(index) is damaged (its header does not match its size)")
        }
        var bounds = [UInt32](repeating: 0, count: 2 * r)
        try read(&bounds, at: off)
        off += 8 * r
        var ids = [UInt32](repeating: 0, count: n)
        try read(&ids, at: off)
        let ranges = (0..<r).map { Int(bounds[2 * $0])..<Int(bounds[2 * $0 + 1]) }
        return (ids, LabelRanges(ranges))
    }

    private func read<T>(_ value: inout T, at offset: Int) throws(OutputError) {
        let want = MemoryLayout<T>.size
        let got = withUnsafeMutableBytes(of: &value) { pread(fd, $0.baseAddress, want, off_t(offset)) }
        guard got == want else { throw OutputError(path: path, message: "short read of the row file") }
    }

    private func read(_ values: inout [UInt32], at offset: Int) throws(OutputError) {
        guard !values.isEmpty else { return }
        let want = values.count * 4
        let got = values.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(offset)) }
        guard got == want else { throw OutputError(path: path, message: "short read of the row file") }
    }

    func close() {
        if fd >= 0 { Foundation.close(fd); fd = -1 }
    }
}

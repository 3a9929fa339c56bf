// The spill file between the passes of a build.

import Foundation

/// Kept rows on disk between the passes: per row `UInt32 count, UInt32 masked, count × UInt32`,
/// with an 8-byte offset per row in memory.
final class SpillFile {
    let path: String
    private var writer: OutputFile?
    private var offsets: [Int] = []
    private var position = 0
    private var fd: Int32 = -1
    private var buffer: [UInt32] = []

    init(path: String) throws(OutputError) {
        self.path = path
        writer = try OutputFile(path: path)
    }

    func append(_ row: EncodedRow) throws(OutputError) {
        offsets.append(position)
        buffer.removeAll(keepingCapacity: true)
        buffer.append(UInt32(row.ids.count))
        buffer.append(UInt32(row.masked))
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

    func row(_ index: Int) throws(OutputError) -> (ids: [UInt32], masked: Int) {
        var header: (UInt32, UInt32) = (0, 0)
        let off = offsets[index]
        let got = withUnsafeMutableBytes(of: &header) { pread(fd, $0.baseAddress, 8, off_t(off)) }
        guard got == 8 else { throw OutputError(path: path, message: "short read of the row file") }
        let n = Int(header.0)
        var ids = [UInt32](repeating: 0, count: n)
        if n > 0 {
            let want = n * 4
            let read = ids.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(off + 8)) }
            guard read == want else { throw OutputError(path: path, message: "short read of the row file") }
        }
        return (ids, Int(header.1))
    }

    func close() {
        if fd >= 0 { Foundation.close(fd); fd = -1 }
    }
}

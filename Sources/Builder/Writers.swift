// Output writers: `.npy` arrays and `.safetensors` files (JSONL rows: JSONLRowWriter.swift),
// each written through a checked, buffered file so a full disk or a write error surfaces as an
// error, never as a short file. Files are written under a temporary folder and renamed into
// place by `OutputFolder`.

import Foundation

/// An error writing outputs (exit code 3 in the CLI).
public struct OutputError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}

/// A write-only file with a large buffer; every `write(2)` result is checked.
final class OutputFile {
    let path: String
    private let fd: Int32
    /// Raw memory: an array here cost a run-time exclusivity check and ~150 instructions an
    /// append (the spill file appends every kept row).
    private let buffer = TextBuffer(capacity: 1 << 20)
    private(set) var bytesWritten = 0
    /// Start the disk writes of every 8 MB as it is written (see `writeBehind()`).
    private let writesBehind: Bool
    private var writtenBehind = 0

    /// - Parameter writeBehind: false for a temporary file read back soon (the spill file).
    init(path: String, writeBehind: Bool = true) throws(OutputError) {
        self.path = path
        writesBehind = writeBehind
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw OutputError(path: path, message: "cannot create: \(String(cString: strerror(errno)))") }
    }

    deinit { if fd >= 0 { Foundation.close(fd) } }

    func write(_ bytes: [UInt8]) throws(OutputError) {
        try bytes.withUnsafeBytes { raw in Result { () throws(OutputError) in try write(raw) } }.get()
    }

    func write(_ raw: UnsafeRawBufferPointer) throws(OutputError) {
        if raw.count >= 1 << 20 {
            // Long text (a batch of JSON lines, a row of a million tokens) goes out without a copy.
            try flush()
            try check(writeOut(raw))
            return
        }
        buffer.append(raw)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func write(_ s: String) throws(OutputError) { try write(Array(s.utf8)) }

    /// Appends raw little-endian integers.
    func write<T: FixedWidthInteger>(littleEndian values: [T]) throws(OutputError) {
        values.withUnsafeBytes { raw in buffer.append(raw) }
        if buffer.count >= 1 << 20 { try flush() }
    }

    func flush() throws(OutputError) {
        let result = writeOut(buffer.bytes)
        buffer.removeAll()
        try check(result)
    }

    /// Writes all of `raw`; returns 0 or the errno of the failed write.
    private func writeOut(_ raw: UnsafeRawBufferPointer) -> Int32 {
        var off = 0
        var result: Int32 = 0
        if let base = raw.baseAddress {
            while off < raw.count {
                let n = Foundation.write(fd, base + off, raw.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    result = errno
                    break
                }
                off += n
            }
        }
        bytesWritten += off
        if result == 0 && writesBehind && bytesWritten - writtenBehind >= 8 << 20 { writeBehind() }
        return result
    }

    private func check(_ result: Int32) throws(OutputError) {
        if result != 0 {
            throw OutputError(path: path, message: "write failed: \(String(cString: strerror(result)))\(result == ENOSPC ? " (the disk is full)" : "")")
        }
    }

    /// Asks the kernel to start writing the bytes written since the last call, without waiting:
    /// the fsync in `close` then waits for the tail only, not for the whole file (it took 92 ms
    /// of a 1.4 s build of 128 MB of rows, with the encoder idle). On Linux, POSIX_FADV_DONTNEED
    /// starts the writeback of the range's dirty pages and drops only pages already clean, none
    /// of which are in a range just written. Elsewhere the final fsync does it all, as before.
    private func writeBehind() {
        #if os(Linux)
        _ = posix_fadvise(fd, off_t(writtenBehind), off_t(bytesWritten - writtenBehind), POSIX_FADV_DONTNEED)
        #endif
        writtenBehind = bytesWritten
    }

    /// Writes what is buffered and starts the disk writes of what is not yet on its way. An
    /// output file is made durable when its folder commits (`OutputFolder.syncFiles` fsyncs
    /// every file it moves); `sync` waits here instead (the commit journal).
    func close(sync: Bool = false) throws(OutputError) {
        try flush()
        if sync {
            if let error = flushToDisk(fd) {
                throw OutputError(path: path, message: "cannot flush to disk: \(String(cString: strerror(error)))")
            }
        } else if writesBehind && bytesWritten > writtenBehind {
            writeBehind()
        }
    }
}

/// fsync(2) on `fd`: nil once the file (or folder) is on disk, else the errno. File systems that
/// cannot sync (EINVAL: pipes, some special files; EROFS) count as done.
func flushToDisk(_ fd: Int32) -> Int32? {
    if fsync(fd) == 0 || errno == EINVAL || errno == EROFS { return nil }
    return errno
}

/// One training row, padded.
struct TrainingArrays {
    var inputIds: [Int32] = []
    var attentionMask: [Int32] = []
    var labels: [Int32] = []
}

/// Integer width of array outputs.
public enum OutputDType: String, Sendable {
    case int32, int64
    var npyDescr: String { self == .int32 ? "<i4" : "<i8" }
    var safetensorsName: String { self == .int32 ? "I32" : "I64" }
    var size: Int { self == .int32 ? 4 : 8 }
}

/// `numpy.save` format 1.0: magic, header dict padded to a multiple of 64 bytes, C-order data.
func npyHeader(dtype: OutputDType, rows: Int, width: Int) -> [UInt8] { npyHeader(dtype: dtype, shape: [rows, width]) }

/// The same for any shape (`(n,)` for one dimension, as numpy writes it).
func npyHeader(dtype: OutputDType, shape: [Int]) -> [UInt8] {
    let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
    var dict = "{'descr': '\(dtype.npyDescr)', 'fortran_order': False, 'shape': (\(dims)), }"
    let prefix = 10
    let total = prefix + dict.utf8.count + 1
    let padded = (total + 63) / 64 * 64
    dict += String(repeating: " ", count: padded - total) + "\n"
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let len = UInt16(dict.utf8.count)
    out.append(UInt8(len & 0xFF))
    out.append(UInt8(len >> 8))
    out.append(contentsOf: dict.utf8)
    return out
}

/// Three `.npy` files (input_ids, attention_mask, labels) of shape (rows, width).
final class NPYWriter {
    let files: [OutputFile]
    let dtype: OutputDType

    init(prefix: String, dtype: OutputDType, rows: Int, width: Int) throws(OutputError) {
        self.dtype = dtype
        var files: [OutputFile] = []
        for name in ["input_ids", "attention_mask", "labels"] {
            let f = try OutputFile(path: "\(prefix)_\(name).npy")
            try f.write(npyHeader(dtype: dtype, rows: rows, width: width))
            files.append(f)
        }
        self.files = files
    }

    func write(_ row: TrainingArrays) throws(OutputError) {
        for (f, a) in zip(files, [row.inputIds, row.attentionMask, row.labels]) {
            if dtype == .int32 { try f.write(littleEndian: a) } else { try f.write(littleEndian: a.map(Int64.init)) }
        }
    }

    func close() throws(OutputError) { for f in files { try f.close() } }
}

/// One `.npy` array of any shape, filled in C order.
final class NPYArrayFile {
    let file: OutputFile
    let dtype: OutputDType

    init(path: String, dtype: OutputDType, shape: [Int]) throws(OutputError) {
        self.dtype = dtype
        file = try OutputFile(path: path)
        try file.write(npyHeader(dtype: dtype, shape: shape))
    }

    func write(_ values: [Int32]) throws(OutputError) {
        if dtype == .int32 { try file.write(littleEndian: values) } else { try file.write(littleEndian: values.map(Int64.init)) }
    }

    func close() throws(OutputError) { try file.close() }
}

/// A `.safetensors` file: input_ids, attention_mask and labels (or any named tensors of one
/// dtype). The tensors are streamed to part files and joined behind the header at the end.
final class SafetensorsWriter {
    let path: String
    let parts: [OutputFile]
    let dtype: OutputDType
    let tensors: [(name: String, shape: [Int])]

    convenience init(path: String, dtype: OutputDType, rows: Int, width: Int) throws(OutputError) {
        try self.init(path: path, dtype: dtype, tensors: ["input_ids", "attention_mask", "labels"].map { ($0, [rows, width]) })
    }

    init(path: String, dtype: OutputDType, tensors: [(name: String, shape: [Int])]) throws(OutputError) {
        self.path = path
        self.dtype = dtype
        self.tensors = tensors
        var parts: [OutputFile] = []
        for k in tensors.indices { parts.append(try OutputFile(path: "\(path).part\(k)")) }
        self.parts = parts
    }

    func write(_ row: TrainingArrays) throws(OutputError) {
        for (k, a) in [row.inputIds, row.attentionMask, row.labels].enumerated() { try write(tensor: k, a) }
    }

    /// Appends values to tensor `k` (in `tensors` order).
    func write(tensor k: Int, _ values: [Int32]) throws(OutputError) {
        if dtype == .int32 { try parts[k].write(littleEndian: values) } else { try parts[k].write(littleEndian: values.map(Int64.init)) }
    }

    /// The JSON header: tensors in data order, 8-byte aligned with trailing spaces.
    static func header(dtype: OutputDType, tensors: [(name: String, shape: [Int])], metadata: [(String, String)]) -> [UInt8] {
        var json = "{"
        var offset = 0
        for (i, (name, shape)) in tensors.enumerated() {
            let size = shape.reduce(1, *) * dtype.size
            if i > 0 { json += "," }
            json += "\"\(name)\":{\"dtype\":\"\(dtype.safetensorsName)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + size)]}"
            offset += size
        }
        if !metadata.isEmpty {
            json += ",\"__metadata__\":{" + metadata.map { "\"\($0.0)\":\(jsonQuote($0.1))" }.joined(separator: ",") + "}"
        }
        json += "}"
        while (json.utf8.count + 8) % 8 != 0 { json += " " }
        var out: [UInt8] = []
        let n = UInt64(json.utf8.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out.append(contentsOf: json.utf8)
        return out
    }

    func close(metadata: [(String, String)]) throws(OutputError) {
        for p in parts { try p.close() }  // temporary: joined below, then removed
        let out = try OutputFile(path: path)
        try out.write(SafetensorsWriter.header(dtype: dtype, tensors: tensors, metadata: metadata))
        for p in parts {
            guard let handle = FileHandle(forReadingAtPath: p.path) else {
                throw OutputError(path: p.path, message: "cannot reopen a part file")
            }
            while true {
                let chunk: Data
                do { chunk = try handle.read(upToCount: 1 << 22) ?? Data() } catch {
                    throw OutputError(path: p.path, message: "read failed: \(error.localizedDescription)")
                }
                if chunk.isEmpty { break }
                try out.write([UInt8](chunk))
            }
            try? handle.close()
            unlink(p.path)
        }
        try out.close()
    }
}

func jsonQuote(_ s: String) -> String {
    var out: [UInt8] = []
    JSON.appendQuoted(s, to: &out)
    return String(decoding: out, as: UTF8.self)
}

import Tokenizer

// Output writers: JSONL rows, `.npy` arrays and `.safetensors` files, each written through a
// checked, buffered file so a full disk or a write error surfaces as an error, never as a short
// file. Files are written under a temporary folder and renamed into place by `OutputFolder`.

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
    private var buffer: [UInt8] = []
    private(set) var bytesWritten = 0

    init(path: String) throws(OutputError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw OutputError(path: path, message: "cannot create: \(String(cString: strerror(errno)))") }
        buffer.reserveCapacity(1 << 20)
    }

    deinit { if fd >= 0 { Foundation.close(fd) } }

    func write(_ bytes: [UInt8]) throws(OutputError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func write(_ s: String) throws(OutputError) { try write(Array(s.utf8)) }

    /// Appends raw little-endian integers.
    func write<T: FixedWidthInteger>(littleEndian values: [T]) throws(OutputError) {
        values.withUnsafeBytes { raw in buffer.append(contentsOf: raw) }
        if buffer.count >= 1 << 20 { try flush() }
    }

    func flush() throws(OutputError) {
        var off = 0
        let result: Int32 = buffer.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return 0 }
            while off < raw.count {
                let n = Foundation.write(fd, base + off, raw.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                off += n
            }
            return 0
        }
        bytesWritten += off
        buffer.removeAll(keepingCapacity: true)
        if result != 0 {
            throw OutputError(path: path, message: "write failed: \(String(cString: strerror(result)))\(result == ENOSPC ? " (the disk is full)" : "")")
        }
    }

    /// Writes what is buffered and, if `sync` (every output file), flushes the file to disk.
    func close(sync: Bool = true) throws(OutputError) {
        try flush()
        if sync && fsync(fd) != 0 && errno != EINVAL && errno != EROFS {
            throw OutputError(path: path, message: "cannot flush to disk: \(String(cString: strerror(errno)))")
        }
    }
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

/// `{"input_ids": [...], "attention_mask": [...], "labels": [...]}` per line.
final class JSONLRowWriter {
    let file: OutputFile
    private var buffer: [UInt8] = []

    init(path: String) throws(OutputError) { file = try OutputFile(path: path) }

    func write(_ row: TrainingArrays) throws(OutputError) {
        // Format into a local array: appending to a class property would pay an exclusivity
        // check per byte.
        var line = buffer
        buffer = []
        line.removeAll(keepingCapacity: true)
        JSONLRowWriter.format(row, into: &line)
        defer { buffer = line }
        try file.write(line)
    }

    /// One row as a JSON line. Labels equal to their input id reuse its formatted digits.
    static func format(_ row: TrainingArrays, into line: inout [UInt8]) {
        line.append(contentsOf: #"{"input_ids": "#.utf8)
        var starts: [Int] = []
        starts.reserveCapacity(2 * row.inputIds.count)
        appendArray(row.inputIds, to: &line, starts: &starts)
        line.append(contentsOf: #", "attention_mask": "#.utf8)
        var ignored: [Int] = []
        appendArray(row.attentionMask, to: &line, starts: &ignored)
        line.append(contentsOf: #", "labels": "#.utf8)
        line.append(UInt8(ascii: "["))
        for (i, v) in row.labels.enumerated() {
            if i > 0 { line.append(UInt8(ascii: ",")); line.append(UInt8(ascii: " ")) }
            if v == row.inputIds[i] {
                // The same number was just written for input_ids: copy its bytes.
                let from = starts[2 * i], to = starts[2 * i + 1]
                for k in from..<to { line.append(line[k]) }
            } else {
                appendInt(v, to: &line)
            }
        }
        line.append(UInt8(ascii: "]"))
        line.append(contentsOf: "}\n".utf8)
    }

    /// `[1, 2, 3]`; `spans` gets the start and end offset of each number.
    static func appendArray(_ a: [Int32], to line: inout [UInt8], starts spans: inout [Int]) {
        line.append(UInt8(ascii: "["))
        for (i, v) in a.enumerated() {
            if i > 0 { line.append(UInt8(ascii: ",")); line.append(UInt8(ascii: " ")) }
            spans.append(line.count)
            appendInt(v, to: &line)
            spans.append(line.count)
        }
        line.append(UInt8(ascii: "]"))
    }

    @inline(__always)
    static func appendInt(_ v: Int32, to line: inout [UInt8]) {
        if v >= 0 && v < 10 { line.append(UInt8(48 + v)); return }
        if v < 0 { line.append(UInt8(ascii: "-")) }
        var x = v.magnitude
        var digits: UInt64 = 0   // up to 8 digits, last digit in the low byte
        var n = 0
        while x > 0 && n < 8 {
            digits = digits << 8 | UInt64(48 + x % 10)
            x /= 10
            n += 1
        }
        if x > 0 {
            // 9 or 10 digits (ids never get here): the slow way.
            line.append(contentsOf: String(x).utf8)
        }
        for k in 0..<n { line.append(UInt8(truncatingIfNeeded: digits >> (8 * UInt64(k)))) }
    }

    func close() throws(OutputError) { try file.close() }
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
        for p in parts { try p.close(sync: false) }  // temporary: joined below, then removed
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

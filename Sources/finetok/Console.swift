// Writing to standard output (buffered) and standard error.

import Foundation

enum Console {
    nonisolated(unsafe) static var out = OutputBuffer(fd: 1)

    static func error(_ message: String) {
        FileHandle.standardError.write(Data("finetok: error: \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("finetok: \(message)\n".utf8))
    }

    static var stderrIsTerminal: Bool { isatty(2) != 0 }
    static var stdoutIsTerminal: Bool { isatty(1) != 0 }
}

/// A write buffer on a file descriptor, flushed in large blocks.
struct OutputBuffer {
    let fd: Int32
    var bytes: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
        bytes.reserveCapacity(1 << 16)
    }

    mutating func write(_ s: String) {
        bytes.append(contentsOf: s.utf8)
        if bytes.count >= 1 << 16 { flush() }
    }

    mutating func write(bytes b: [UInt8]) {
        bytes.append(contentsOf: b)
        if bytes.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Foundation.write(fd, base + off, raw.count - off)
            }
            if n <= 0 { break }
            off += n
        }
        bytes.removeAll(keepingCapacity: true)
    }
}

/// Appends `[1, 2, 3]` to a byte buffer.
func appendJSONArray<S: Sequence>(_ ids: S, to out: inout [UInt8]) where S.Element: BinaryInteger {
    out.append(UInt8(ascii: "["))
    var first = true
    for id in ids {
        if !first { out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " ")) }
        first = false
        out.append(contentsOf: String(id).utf8)
    }
    out.append(UInt8(ascii: "]"))
}

// Streaming line reader for JSONL and text files: reads 4 MiB blocks, calls back with each line
// (without its `\n` or `\r\n`) and its 1-based number. A UTF-8 byte-order mark at the start of
// the file is skipped; a last line without a newline is still a line.

import Foundation

/// An error reading or parsing an input file, located at a line.
public struct InputFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(path: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var s = path
        if let line { s += ":\(line)" }
        if let column { s += ":\(column)" }
        return s + ": " + message
    }
}

public enum LineReader {
    static let blockSize = 4 << 20

    /// Calls `body(lineNumber, bytes)` for every line of the file at `path` (`-` = standard input).
    /// With `range`, reads only those bytes of the file (a shard's part: it starts and ends at line
    /// boundaries) and numbers its lines from 1; a byte-order mark is skipped only at offset 0.
    /// - Throws: `InputFileError` if the file cannot be read, or what `body` throws.
    public static func forEachLine(path: String, range: Range<Int>? = nil, onBlock: (Data) -> Void = { _ in },
                                   _ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        var pending: [UInt8] = []
        var lineNumber = 0
        try forEachBlock(path: path, range: range, onRaw: onBlock) { chunk in
            pending.append(contentsOf: chunk)
            var consumed = 0
            try pending.withUnsafeBufferPointer { buf in
                var start = 0
                while let nl = nextNewline(buf, from: start) {
                    lineNumber += 1
                    var end = nl
                    if end > start && buf[end - 1] == 0x0D { end -= 1 }
                    try body(lineNumber, UnsafeBufferPointer(rebasing: buf[start..<end]))
                    start = nl + 1
                }
                consumed = start
            }
            pending.removeFirst(consumed)
        }
        if !pending.isEmpty {
            lineNumber += 1
            var end = pending.count
            if pending[end - 1] == 0x0D { end -= 1 }
            try pending.withUnsafeBufferPointer { try body(lineNumber, UnsafeBufferPointer(rebasing: $0[0..<end])) }
        }
    }

    /// Calls `body` with successive blocks (up to 4 MiB) of the file at `path` (`-` = standard
    /// input), or of `range` of it; a UTF-8 byte-order mark at offset 0 is left out of the blocks
    /// but not of `onRaw`'s view (for hashing the file as it is).
    /// - Throws: `InputFileError` if the file cannot be opened or read, or what `body` throws.
    public static func forEachBlock(path: String, range: Range<Int>? = nil, onRaw: (Data) -> Void = { _ in },
                                    _ body: (Data) throws -> Void) throws {
        let fd: Int32
        if path == "-" {
            fd = 0
        } else {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw InputFileError(path: path, message: "no such file")
            }
            if isDir.boolValue { throw InputFileError(path: path, message: "is a folder, expected a file") }
            fd = open(path, O_RDONLY)
            guard fd >= 0 else {
                throw InputFileError(path: path, message: "cannot open for reading (check permissions): \(String(cString: strerror(errno)))")
            }
        }
        defer { if fd != 0 { close(fd) } }
        var offset = range?.lowerBound ?? 0
        let end = range?.upperBound ?? Int.max
        if offset > 0 && lseek(fd, off_t(offset), SEEK_SET) < 0 {
            throw InputFileError(path: path, message: "cannot seek to byte \(offset): \(String(cString: strerror(errno)))")
        }
        var first = offset == 0
        while offset < end {
            // read(2) straight into the block (FileHandle reads 4 KB per system call).
            let want = min(blockSize, end - offset)
            guard let buffer = malloc(want) else { throw InputFileError(path: path, message: "out of memory for a \(want)-byte block") }
            var got = 0
            while got < want {
                let n = read(fd, buffer + got, want - got)
                if n < 0 {
                    if errno == EINTR { continue }
                    let reason = String(cString: strerror(errno))
                    free(buffer)
                    throw InputFileError(path: path, message: "read failed at byte \(offset + got): \(reason)")
                }
                if n == 0 { break }
                got += n
            }
            if got == 0 { free(buffer); break }
            var chunk = Data(bytesNoCopy: buffer, count: got, deallocator: .free)
            offset += got
            onRaw(chunk)
            if first {
                first = false
                if chunk.count >= 3 && chunk[chunk.startIndex] == 0xEF && chunk[chunk.startIndex + 1] == 0xBB && chunk[chunk.startIndex + 2] == 0xBF {
                    chunk.removeFirst(3)
                }
            }
            try body(chunk)
            if got < want { break }
        }
    }

    @inline(__always)
    static func nextNewline(_ buf: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < buf.count, let base = buf.baseAddress else { return nil }
        guard let hit = memchr(base + start, 0x0A, buf.count - start) else { return nil }
        return UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
    }

    /// Reads a whole file (`-` = standard input), skipping a UTF-8 BOM.
    public static func readAll(path: String) throws -> [UInt8] {
        let data: Data?
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw InputFileError(path: path, message: "no such file")
            }
            if isDir.boolValue { throw InputFileError(path: path, message: "is a folder, expected a file") }
            data = FileManager.default.contents(atPath: path)
        }
        guard let data else { throw InputFileError(path: path, message: "cannot read (check permissions)") }
        var bytes = [UInt8](data)
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { bytes.removeFirst(3) }
        return bytes
    }
}

/// Parses one JSONL line as a JSON object, with errors located at `path:line:column`.
public func parseJSONLine(_ line: UnsafeBufferPointer<UInt8>, path: String, line number: Int) throws -> [(String, JSONValue)] {
    let value: JSONValue
    do {
        value = try JSON.parse(line)
    } catch {
        throw InputFileError(path: path, line: number, column: error.offset + 1, message: "malformed JSON: \(error.message)")
    }
    guard case .object(let members) = value else {
        throw InputFileError(path: path, line: number, message: "expected a JSON object per line, found \(value.typeDescription)")
    }
    return members
}

import Tokenizer

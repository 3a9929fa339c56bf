// Streaming line reader for JSONL and text files: reads 4 MiB blocks with read(2), calls back with
// each line (without its `\n` or `\r\n`) and its 1-based number. A UTF-8 byte-order mark at the
// start of the file is skipped; a last line without a newline is still a line. Inputs are streams:
// a pipe, `/dev/stdin` or a shell's `<(...)` works as a file does, and is read once.

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

    /// Calls `body(lineNumber, bytes)` for every line of the file at `path` (`-` = standard
    /// input; a FIFO, `/dev/stdin` or a shell's `<(...)` works too: the input is read once, as a
    /// stream). `onBlock` sees every block of raw bytes, in order (for a checksum).
    /// With `range`, reads only those bytes of a regular file (a shard's part: it starts and ends
    /// at line boundaries) and numbers its lines from 1; a byte-order mark is skipped only at
    /// offset 0.
    /// - Throws: `InputFileError` if the file cannot be read (with the operating system's
    ///   reason), or what `body` throws.
    public static func forEachLine(path: String, range: Range<Int>? = nil, onBlock: ((Data) -> Void)? = nil,
                                   _ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        if let range {
            let fd = try openInput(path)
            defer { if fd != 0 { close(fd) } }
            try seek(fd, to: range.lowerBound, path: path)
            _ = try scan(fd, replay: [], path: path, keep: false, limit: range.count, skipBOM: range.lowerBound == 0,
                         onBlock: onBlock) { number, line in
                try body(number, line)
                return true
            }
            return
        }
        // A stream that `firstLine` peeked at continues where it stopped, after its bytes.
        let (fd, replay) = try Peeked.take(path) ?? (openInput(path), [])
        defer { if fd != 0 { close(fd) } }
        _ = try scan(fd, replay: replay, path: path, keep: false, onBlock: onBlock) { number, line in
            try body(number, line)
            return true
        }
    }

    /// The first line of `path` for which `accept` is true, with its 1-based number, or nil if
    /// there is none — read as `forEachLine` reads it. A pipe or standard input cannot be read
    /// twice, so the bytes read here are kept and the next `forEachLine(path:)` starts with them
    /// (memory: the input up to that line, plus one 4 MiB block).
    public static func firstLine(path: String, where accept: (UnsafeBufferPointer<UInt8>) -> Bool) throws -> (line: Int, bytes: [UInt8])? {
        let (fd, replay) = try Peeked.take(path) ?? (openInput(path), [])
        let regular = InputFiles.isRegularFile(path)
        var found: (line: Int, bytes: [UInt8])?
        let kept: [UInt8]
        do {
            kept = try scan(fd, replay: replay, path: path, keep: !regular, onBlock: nil) { number, line in
                guard accept(line) else { return true }
                found = (number, Array(line))
                return false
            }
        } catch {
            if fd != 0 { close(fd) }
            throw error
        }
        if regular {
            if fd != 0 { close(fd) }
        } else {
            Peeked.put(path, fd: fd, bytes: kept)
        }
        return found
    }

    /// The reading loop behind both: `replay` (bytes an earlier peek read) first, then blocks of
    /// `fd` until the end or until `body` returns false. Returns every raw byte seen if `keep`.
    /// The BOM check waits for the first 3 bytes, however the pipe delivers them.
    /// With `limit`, reads at most that many bytes of `fd`.
    ///
    /// Each block is read into memory of its own, handed to `onBlock` (the SHA-256 queue) after
    /// its lines, and lines inside a block are passed where they lie; only a line that spans
    /// blocks is copied, into `carry`. (Copying every block into a growing buffer, and every
    /// block again for the hash, was ~20 ms per 32 MB of a build's reading thread, the faults
    /// of fresh 4 MB blocks as much again.)
    static func scan(_ fd: Int32, replay: [UInt8], path: String, keep: Bool, limit: Int = .max, skipBOM: Bool = true,
                     blockSize: Int = blockSize, onBlock: ((Data) -> Void)?,
                     _ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Bool) throws -> [UInt8] {
        var kept: [UInt8] = keep ? replay : []
        /// The bytes of the line in progress (after the last newline), or, until the BOM is
        /// decided, every byte so far.
        var carry: [UInt8] = []
        var lineNumber = 0
        var remaining = limit
        var bomChecked = !skipBOM
        var stopped = false

        /// Passes one line (a trailing CR dropped); false when `body` stops.
        func emit(_ line: UnsafeBufferPointer<UInt8>) throws -> Bool {
            lineNumber += 1
            let end = line.count > 0 && line[line.count - 1] == 0x0D ? line.count - 1 : line.count
            return try body(lineNumber, UnsafeBufferPointer(rebasing: line[0..<end]))
        }

        /// The lines that end in `chunk`, the first one starting in `carry`; the rest of
        /// `chunk` goes to `carry`.
        func lines(_ chunk: UnsafeBufferPointer<UInt8>) throws {
            var start = 0
            if !carry.isEmpty {
                guard let nl = nextNewline(chunk, from: 0) else {
                    carry.append(contentsOf: chunk)
                    return
                }
                carry.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[0..<nl]))
                let more = try carry.withUnsafeBufferPointer { try emit($0) }
                carry.removeAll(keepingCapacity: true)
                guard more else { stopped = true; return }
                start = nl + 1
            }
            while let nl = nextNewline(chunk, from: start) {
                guard try emit(UnsafeBufferPointer(rebasing: chunk[start..<nl])) else { stopped = true; return }
                start = nl + 1
            }
            if start < chunk.count { carry.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start...])) }
        }

        /// One chunk of the stream: the BOM check until it is decided, then its lines.
        func take(_ chunk: UnsafeBufferPointer<UInt8>, atEnd: Bool) throws {
            if bomChecked {
                try lines(chunk)
                return
            }
            carry.append(contentsOf: chunk)
            if carry.count < 3 && !atEnd { return }
            bomChecked = true
            if carry.starts(with: [0xEF, 0xBB, 0xBF]) { carry.removeFirst(3) }
            let first = carry
            carry = []
            try first.withUnsafeBufferPointer { try lines($0) }
        }

        if !replay.isEmpty {
            onBlock?(Data(replay))
            try replay.withUnsafeBufferPointer { try take($0, atEnd: false) }
        }
        while !stopped {
            let want = min(blockSize, remaining)
            guard want > 0, let buffer = malloc(want) else {
                if want > 0 { throw InputFileError(path: path, message: "out of memory for a \(want)-byte block") }
                break
            }
            // Freed here unless handed over to `onBlock` (on every exit: an error, the end).
            var handedOver = false
            defer { if !handedOver { free(buffer) } }
            let n = try readBlock(fd, UnsafeMutableRawBufferPointer(start: buffer, count: want), path: path, line: lineNumber + 1)
            if n == 0 { break }
            remaining -= n
            let chunk = UnsafeBufferPointer(start: buffer.assumingMemoryBound(to: UInt8.self), count: n)
            if keep { kept.append(contentsOf: chunk) }
            try take(chunk, atEnd: false)
            // Handed over after its lines: the block's memory is freed when the last holder of
            // the Data (the hash queue) lets go (Data copies a few bytes and frees them at once).
            if let onBlock {
                handedOver = true
                onBlock(Data(bytesNoCopy: buffer, count: n, deallocator: .free))
            }
        }
        if !stopped {
            // The end: an undecided BOM check, then the last line, which may lack its newline.
            if !bomChecked { try take(UnsafeBufferPointer(start: nil, count: 0), atEnd: true) }
            if !carry.isEmpty { _ = try carry.withUnsafeBufferPointer { try emit($0) } }
        }
        return kept
    }

    static func openInput(_ path: String) throws -> Int32 {
        do { return try InputFiles.open(path) } catch {
            throw InputFileError(path: path, message: "cannot read: \(error.reason)")
        }
    }

    static func seek(_ fd: Int32, to offset: Int, path: String) throws {
        if offset > 0 && lseek(fd, off_t(offset), SEEK_SET) < 0 {
            throw InputFileError(path: path, message: "cannot seek to byte \(offset): \(String(cString: strerror(errno)))")
        }
    }

    static func readBlock(_ fd: Int32, _ scratch: UnsafeMutableRawBufferPointer, path: String, line: Int) throws -> Int {
        do {
            return try InputFiles.read(fd, into: scratch.baseAddress.unsafelyUnwrapped, count: scratch.count, path: path)
        } catch {
            throw InputFileError(path: path, line: line, message: "read failed: \(error.reason)")
        }
    }

    /// Pipes that `firstLine` read from: the open descriptor and the bytes read so far.
    enum Peeked {
        nonisolated(unsafe) private static var streams: [String: (fd: Int32, bytes: [UInt8])] = [:]
        private static let lock = NSLock()

        static func put(_ path: String, fd: Int32, bytes: [UInt8]) {
            lock.lock()
            defer { lock.unlock() }
            streams[path] = (fd, bytes)
        }

        static func take(_ path: String) -> (Int32, [UInt8])? {
            lock.lock()
            defer { lock.unlock() }
            return streams.removeValue(forKey: path).map { ($0.fd, $0.bytes) }
        }
    }

    /// Calls `body` with successive blocks (up to 4 MiB) of the file at `path` (`-` = standard
    /// input), or of `range` of it; a UTF-8 byte-order mark at offset 0 is left out of the blocks
    /// but not of `onRaw`'s view (for hashing the file as it is).
    /// - Throws: `InputFileError` if the file cannot be opened or read, or what `body` throws.
    public static func forEachBlock(path: String, range: Range<Int>? = nil, onRaw: (Data) -> Void = { _ in },
                                    _ body: (Data) throws -> Void) throws {
        // A stream that `firstLine` peeked at continues where it stopped, after its bytes.
        let peeked = range == nil ? Peeked.take(path) : nil
        let fd = try peeked?.0 ?? openInput(path)
        defer { if fd != 0 { close(fd) } }
        var offset = range?.lowerBound ?? 0
        let end = range?.upperBound ?? Int.max
        try seek(fd, to: offset, path: path)
        var first = offset == 0
        if let replay = peeked?.1, !replay.isEmpty {
            var chunk = Data(replay)
            offset += replay.count
            onRaw(chunk)
            if replay.starts(with: [0xEF, 0xBB, 0xBF]) { chunk.removeFirst(3) }
            first = false
            try body(chunk)
        }
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

    /// Reads a whole file (`-` = standard input, or a pipe), skipping a UTF-8 BOM.
    /// - Parameter limit: larger inputs are refused (e.g. template files).
    /// - Throws: `InputFileError` with the operating system's reason.
    public static func readAll(path: String, limit: Int = Int.max) throws -> [UInt8] {
        var bytes: [UInt8]
        do { bytes = try InputFiles.readAll(path, limit: limit) } catch {
            throw InputFileError(path: path, message: "cannot read: \(error.reason)")
        }
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

// LineReader on pipes: a FIFO is read once; what template detection peeked at is replayed; the
// BOM check waits for bytes that arrive one write at a time.

import Foundation
import XCTest
@testable import Builder
import Tokenizer

final class LineReaderTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = temporaryFolder("finetok-lines") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// A FIFO fed by a background thread, one `write` per chunk with a pause between them.
    func fifo(_ chunks: [[UInt8]], pause: useconds_t = 0) -> String {
        let path = dir.appendingPathComponent("fifo-\(UUID().uuidString)").path
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        Thread.detachNewThread {
            let fd = open(path, O_WRONLY)
            guard fd >= 0 else { return }
            for chunk in chunks {
                var off = 0
                while off < chunk.count {
                    let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress! + off, chunk.count - off) }
                    if n <= 0 { break }
                    off += n
                }
                if pause > 0 { usleep(pause) }
            }
            close(fd)
        }
        return path
    }

    /// 9 MB of numbered lines through a FIFO (more than two 4 MiB blocks): the peek finds the
    /// first row after blank lines, then every line comes once, in order, with its number.
    func testPeekThenStreamAFIFO() throws {
        var lines = ["", "  "]
        var size = 0
        while size < 9_000_000 {
            let line = "line \(lines.count + 1) " + String(repeating: "x", count: 500 + lines.count % 997)
            size += line.utf8.count + 1
            lines.append(line)
        }
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        let path = fifo([text])
        let first = try XCTUnwrap(LineReader.firstLine(path: path) { !$0.allSatisfy { $0 == 0x20 } })
        XCTAssertEqual(first.line, 3)
        XCTAssertEqual(first.bytes, Array(lines[2].utf8))
        var seen = 0
        var blocks = Data()
        var mismatches = 0
        try LineReader.forEachLine(path: path, onBlock: { blocks.append($0) }) { number, bytes in
            seen += 1
            if number != seen || !bytes.elementsEqual(lines[number - 1].utf8) { mismatches += 1 }
        }
        XCTAssertEqual(seen, lines.count)
        XCTAssertEqual(mismatches, 0)
        XCTAssertTrue(blocks.elementsEqual(text), "onBlock sees every byte once, in order")
    }

    /// A BOM written one byte at a time, then rows without a final newline and with CRLF.
    func testBOMInPiecesAndLastLineWithoutNewline() throws {
        let chunks: [[UInt8]] = [[0xEF], [0xBB], [0xBF], Array("a\r\nb".utf8)]
        var lines: [String] = []
        try LineReader.forEachLine(path: fifo(chunks, pause: 20_000)) { _, bytes in lines.append(String(decoding: bytes, as: UTF8.self)) }
        XCTAssertEqual(lines, ["a", "b"])
        let peeked = fifo(chunks, pause: 20_000)
        XCTAssertEqual(try LineReader.firstLine(path: peeked) { _ in true }?.bytes, Array("a".utf8))
        lines = []
        try LineReader.forEachLine(path: peeked) { _, bytes in lines.append(String(decoding: bytes, as: UTF8.self)) }
        XCTAssertEqual(lines, ["a", "b"])
    }

    /// A pipe with no line at all: no first line, and the stream is still read (to its end).
    func testEmptyPipe() throws {
        let path = fifo([])
        XCTAssertNil(try LineReader.firstLine(path: path) { _ in true })
        var count = 0
        try LineReader.forEachLine(path: path) { _, _ in count += 1 }
        XCTAssertEqual(count, 0)
    }

    func testReadAllOfAFIFOAndErrors() throws {
        XCTAssertEqual(try LineReader.readAll(path: fifo([[0xEF, 0xBB, 0xBF], Array("hello".utf8)])), Array("hello".utf8))
        XCTAssertThrowsError(try LineReader.readAll(path: fifo([Array(repeating: 0x61, count: 3000)]), limit: 2048)) { error in
            XCTAssertTrue("\(error)".contains("cannot read: it is larger than"), "\(error)")
        }
        let missing = dir.appendingPathComponent("missing").path
        XCTAssertThrowsError(try LineReader.forEachLine(path: missing) { _, _ in }) { error in
            XCTAssertEqual("\(error)", "\(missing): cannot read: No such file or directory")
        }
    }

    /// Seeded random files read in blocks of 1 to 16 bytes, some bytes replayed from a peek:
    /// every line as `split("\n")` gives it (BOM dropped at the start, one CR dropped at each
    /// line's end, no line after a final newline), every raw byte hashed once in order, and a
    /// body that stops gets no line after.
    func testLinesAcrossBlocksOfAnySize() throws {
        var rng = SeededRandom(seed: 21)
        let alphabet = Array("ab \r\n\r\nxy".utf8)
        for trial in 0..<400 {
            var bytes: [UInt8] = trial % 3 == 0 ? [0xEF, 0xBB, 0xBF] : []
            let length = Int(rng.next() % (trial % 10 == 0 ? 300 : 40))
            bytes += (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            var text = Array(bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes[...])
            var expected: [[UInt8]] = []
            while let nl = text.firstIndex(of: 0x0A) {
                expected.append(Array(text[..<nl]))
                text = Array(text[(nl + 1)...])
            }
            if !text.isEmpty { expected.append(text) }
            expected = expected.map { $0.last == 0x0D ? Array($0.dropLast()) : $0 }

            let replayed = trial % 4 == 0 ? Int(rng.next() % UInt64(bytes.count + 1)) : 0
            let path = dir.appendingPathComponent("t\(trial).jsonl").path
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes[replayed...])))
            let fd = open(path, O_RDONLY)
            defer { close(fd) }
            let stopAfter = trial % 5 == 0 ? Int(rng.next() % 4) + 1 : Int.max
            var lines: [[UInt8]] = [], numbers: [Int] = [], hashed: [UInt8] = []
            let kept = try LineReader.scan(fd, replay: Array(bytes[..<replayed]), path: path, keep: true,
                                           blockSize: 1 + Int(rng.next() % 16), onBlock: { hashed += $0 }) { number, line in
                lines.append(Array(line))
                numbers.append(number)
                return lines.count < stopAfter
            }
            let want = Array(expected.prefix(stopAfter))
            XCTAssertEqual(lines, want, "trial \(trial): \(bytes)")
            XCTAssertEqual(numbers, Array(1...max(1, want.count)).prefix(want.count).map { $0 }, "trial \(trial)")
            if stopAfter > expected.count {
                XCTAssertEqual(hashed, bytes, "trial \(trial)")
                XCTAssertEqual(kept, bytes, "trial \(trial)")
            } else {
                XCTAssertEqual(Array(bytes.prefix(hashed.count)), hashed, "trial \(trial)")
                XCTAssertEqual(kept, hashed, "trial \(trial)")
            }
        }
    }
}

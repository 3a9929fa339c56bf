// The JSONL line formatter and the buffered output file, against plain Swift formatting.

import Foundation
import XCTest
@testable import Builder

final class WritersTests: XCTestCase {
    /// What `JSONLRowWriter.line` must produce, the slow way.
    func reference(_ fields: [(key: String, values: [Int32])]) -> String {
        "{" + fields.map { "\"\($0.key)\": [" + $0.values.map { String($0) }.joined(separator: ", ") + "]" }.joined(separator: ", ") + "}\n"
    }

    func testLinesMatchStringFormatting() {
        let edges: [Int32] = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10000, 50256, 99999, 100000, 999_999_999,
                              1_000_000_000, .max, -1, -9, -10, -100, -101, -1_000_000_000, .min]
            + (1...9).flatMap { k -> [Int32] in
                let power = (0..<k).reduce(Int32(1)) { p, _ in p * 10 }
                return [power - 1, power, power + 1, -power, 1 - power]
            }
        XCTAssertEqual(String(decoding: JSONLRowWriter.line([("a", edges)]), as: UTF8.self), reference([("a", edges)]))
        var rng = SeededRandom(seed: 7)
        for round in 0..<300 {
            var fields: [(key: String, values: [Int32])] = []
            for k in 0..<(1 + round % 5) {
                let n = Int(rng.next() % 40)
                // Every magnitude: a random width of 1–32 bits, either sign.
                let values = (0..<n).map { _ -> Int32 in
                    let bits = 1 + Int(rng.next() % 32)
                    return Int32(truncatingIfNeeded: rng.next() & (UInt64(1) << bits &- 1))
                }
                fields.append(("k\(k)", values))
            }
            XCTAssertEqual(String(decoding: JSONLRowWriter.line(fields), as: UTF8.self), reference(fields))
        }
        XCTAssertEqual(String(decoding: JSONLRowWriter.line([]), as: UTF8.self), "{}\n")
        XCTAssertEqual(String(decoding: JSONLRowWriter.line([("e", [])]), as: UTF8.self), "{\"e\": []}\n")
    }

    /// A row's line straight from its ids and labelled ranges equals the line of the arrays
    /// `Build.fill` makes: random ids (some above Int32.max), label ranges (overlapping, past the
    /// end), widths (shorter than the row too), pad ids and sides.
    func testRowLinesMatchTheFilledArrays() {
        var rng = SeededRandom(seed: 11)
        for round in 0..<600 {
            let n = round == 0 ? 0 : round < 20 ? 3000 + Int(rng.next() % 3000) : Int(rng.next() % 50)
            let ids = (0..<n).map { _ -> UInt32 in
                rng.next() % 50 == 0 ? UInt32(truncatingIfNeeded: rng.next()) : UInt32(rng.next() % 200_000)
            }
            let ranges = (0..<Int(rng.next() % 4)).map { _ -> Range<Int> in
                let a = Int(rng.next() % UInt64(n + 5))
                return a..<(a + Int(rng.next() % UInt64(n / 2 + 3)))
            }
            let labels = LabelRanges(ranges)
            let width: Int? = rng.next() % 3 == 0 ? nil : max(0, n + Int(rng.next() % 20) - 5)
            let pad = rng.next() % 4 == 0 ? Int32(-7) : Int32(rng.next() % 100_000)
            let side: PaddingSide = rng.next() % 2 == 0 ? .left : .right
            var arrays = TrainingArrays()
            Build.fill(&arrays, ids: ids, labels: labels.ranges, width: width, pad: pad, side: side)
            let expected = JSONLRowWriter.line([("input_ids", arrays.inputIds), ("attention_mask", arrays.attentionMask),
                                                ("labels", arrays.labels)])
            let most = JSONLRowWriter.maxLength(width: max(width ?? 0, n))
            let line = [UInt8](unsafeUninitializedCapacity: most) { buffer, count in
                count = ids.withUnsafeBufferPointer {
                    JSONLRowWriter.format(ids: $0, labels: labels.ranges, width: width, pad: pad, side: side, to: buffer.baseAddress!)
                }
            }
            XCTAssertEqual(line, expected, "round \(round): \(n) ids, labels \(labels.ranges), width \(String(describing: width)), \(side)")
        }
    }

    /// Every id of the table, and ids past it, formatted as Swift formats them, back to back.
    func testIdTextMatchesStringFormatting() {
        let ids = Array(0..<UInt32(IdText.count + 1000)) + [UInt32(Int32.max), UInt32(Int32.max) + 1, .max]
        var expected: [UInt8] = []
        for id in ids { expected += Array("\(Int32(truncatingIfNeeded: id)), ".utf8) }
        let text = [UInt8](unsafeUninitializedCapacity: 13 * ids.count + 8) { buffer, count in
            count = ids.withUnsafeBufferPointer { JSONLRowWriter.formatIds($0[...], to: buffer.baseAddress!) - buffer.baseAddress! }
        }
        XCTAssertEqual(text, expected)
    }

    /// Rows written in batches on several threads give the lines of the rows one by one, in order.
    func testRowsWrittenOnThreadsKeepTheirOrder() throws {
        let dir = temporaryFolder("finetok-jsonl")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededRandom(seed: 5)
        let rows = (0..<300).map { k -> (ids: [UInt32], labels: LabelRanges) in
            let n = k % 50 == 0 ? 2000 : Int(rng.next() % 40)
            return ((0..<n).map { _ in UInt32(rng.next() % 60_000) }, .suffix(from: n / 3, count: n))
        }
        var expected: [UInt8] = []
        for row in rows {
            var arrays = TrainingArrays()
            Build.fill(&arrays, ids: row.ids, labels: row.labels.ranges, width: 30, pad: 0, side: .right)
            expected += JSONLRowWriter.line([("input_ids", arrays.inputIds), ("attention_mask", arrays.attentionMask),
                                             ("labels", arrays.labels)])
        }
        for threads in [1, 3] {
            let path = dir.appendingPathComponent("t\(threads).jsonl").path
            let writer = try JSONLRowWriter(path: path, batchTokens: 100)
            try writer.write(chunk(Array(rows[..<150])), width: 30, pad: 0, side: .right, threads: threads)
            try writer.write(chunk(Array(rows[150...])), width: 30, pad: 0, side: .right, threads: threads)
            try writer.close()
            XCTAssertEqual(FileManager.default.contents(atPath: path), Data(expected), "\(threads) threads")
        }
    }

    /// A write that fails on the write queue comes out of a later `write` or of `close` as the
    /// file's error: here a file-size limit of 1 MB (EFBIG, as under `ulimit -f`; SIGXFSZ
    /// ignored, as the CLI does).
    func testAWriteErrorOnTheQueueIsThrown() throws {
        let dir = temporaryFolder("finetok-efbig")
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = (0..<4).map { k -> (ids: [UInt32], labels: LabelRanges) in
            ((0..<100_000).map { UInt32(10_000 + ($0 + k) % 50_000) }, .suffix(from: 0, count: 100_000))
        }
        #if os(Linux)
        let fileSize = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
        #else
        let fileSize = RLIMIT_FSIZE
        #endif
        var saved = rlimit()
        XCTAssertEqual(getrlimit(fileSize, &saved), 0)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        defer {
            _ = setrlimit(fileSize, &saved)
            signal(SIGXFSZ, previousHandler)
        }
        var small = saved
        small.rlim_cur = 1 << 20
        XCTAssertEqual(setrlimit(fileSize, &small), 0)
        for threads in [1, 2] {
            let path = dir.appendingPathComponent("t\(threads).jsonl").path
            let writer = try JSONLRowWriter(path: path, batchTokens: 100)
            let writeAndClose = { () throws(OutputError) in
                try writer.write(chunk(rows), width: nil, pad: 0, side: .right, threads: threads)
                try writer.close()
            }
            XCTAssertThrowsError(try writeAndClose()) {
                XCTAssertTrue("\($0)".contains("t\(threads).jsonl: write failed"), "\($0)")
            }
        }
    }

    /// Files are closed without waiting for the disk; the commit's `syncFiles` flushes them all
    /// and names a file it cannot flush.
    func testFilesAreFlushedTogetherAndAFailureNamesTheFile() throws {
        let dir = temporaryFolder("finetok-sync")
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["a.jsonl", "b.bin"] {
            let file = try OutputFile(path: dir.appendingPathComponent(name).path)
            try file.write(Array(repeating: 7, count: 3 << 20))
            try file.close()
        }
        XCTAssertNoThrow(try OutputFolder.syncFiles(["a.jsonl", "b.bin"], in: dir.path))
        XCTAssertThrowsError(try OutputFolder.syncFiles(["a.jsonl", "gone.npy"], in: dir.path)) {
            XCTAssertTrue("\($0)".contains("gone.npy: cannot open to flush to disk"), "\($0)")
        }
    }

    /// Lines of 1 MB or more skip the buffer: the file must still hold every byte in order.
    func testLongWritesKeepTheOrder() throws {
        let dir = temporaryFolder("finetok-writers")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.bin").path
        let file = try OutputFile(path: path)
        var expected: [UInt8] = []
        for (k, size) in [10, (1 << 20) + 3, 5, 700_000, 700_000, 1 << 20, 1, 2 << 20, 3].enumerated() {
            let chunk = (0..<size).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 9) ^ k) }
            try file.write(chunk)
            expected += chunk
        }
        try file.close()
        XCTAssertEqual(file.bytesWritten, expected.count)
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data(expected))
    }

    /// A row file whose labelled range runs backwards (a damaged shard's `rows.bin`) is an
    /// error naming the row, not a trap when the range is made.
    func testSpillFileRangeRunningBackwardsIsAnError() throws {
        let dir = temporaryFolder("finetok-spill-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("rows.bin").path
        let spill = try SpillFile(path: path)
        for n in [5, 6] {
            try spill.append(EncodedRow(ids: RowIds((0..<n).map(UInt32.init)), labels: .suffix(from: 2, count: n), promptTokens: 2,
                                        completionTokens: n - 2, truncatedTokens: 0, differsInOtherMode: false))
        }
        try spill.finishWriting()
        // Row 1 starts at byte 8 + 8 + 20 = 36: count, r, then its range (2, 6) becomes (7, 6).
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: 36 + 8)
        handle.write(Data([7, 0, 0, 0]))
        try handle.close()
        try spill.openForReading()
        XCTAssertEqual(try spill.rows(at: [0]).first?.labels, .suffix(from: 2, count: 5))
        XCTAssertThrowsError(try spill.rows(at: [1])) {
            XCTAssertTrue("\($0)".contains("row 1 is damaged (a labelled range ends before it starts)"), "\($0)")
        }
        XCTAssertThrowsError(try spill.read(at: [0, 1], into: RowChunk()))
        spill.close()
    }

    /// The row file between the passes, read back in a shuffled order from its mapping; a file
    /// cut short is not mapped, its whole rows are still read (with `pread`) and a read past
    /// its end is an error, not a fault.
    func testSpillFileRowsReadBackMappedAndCutShort() throws {
        let dir = temporaryFolder("finetok-spill")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededRandom(seed: 11)
        let rows = (0..<300).map { k -> EncodedRow in
            let n = 1 + Int(rng.next() % 200)
            let ids = (0..<n).map { _ in UInt32(truncatingIfNeeded: rng.next() % 100_000) }
            let labels: LabelRanges = k % 3 == 0 ? LabelRanges([0..<n / 3, n / 2..<n]) : .suffix(from: n / 4, count: n)
            return EncodedRow(ids: RowIds(ids), labels: labels, promptTokens: 0, completionTokens: n, truncatedTokens: 0, differsInOtherMode: false)
        }
        for cut in [0, 6] {
            let path = dir.appendingPathComponent("rows\(cut).bin").path
            let spill = try SpillFile(path: path)
            for row in rows { try spill.append(row) }
            try spill.finishWriting()
            if cut > 0 { XCTAssertEqual(truncate(path, off_t(spill.position - cut)), 0) }
            try spill.openForReading()
            XCTAssertEqual(spill.isMapped, cut == 0)
            var order = Array(0..<rows.count)
            for k in order.indices.reversed() { order.swapAt(k, Int(rng.next() % UInt64(k + 1))) }
            let whole = cut == 0 ? order : order.filter { $0 != rows.count - 1 }
            let read = try spill.rows(at: whole[...])
            XCTAssertEqual(read.map(\.ids), whole.map { rows[$0].ids.array }, "cut \(cut)")
            XCTAssertEqual(read.map(\.labels), whole.map { rows[$0].labels }, "cut \(cut)")
            // The same rows copied into a chunk (pass 2's path), in two chunks, the buffer reused.
            let chunk = RowChunk()
            for part in [whole[..<100], whole[100...]] {
                try spill.read(at: part, into: chunk)
                XCTAssertEqual(chunk.count, part.count)
                for (k, index) in part.enumerated() {
                    chunk.withRow(k) { ids, labels in
                        XCTAssertEqual(Array(ids), rows[index].ids.array, "row \(index), cut \(cut)")
                        XCTAssertEqual(Array(labels), rows[index].labels.ranges, "row \(index), cut \(cut)")
                    }
                    XCTAssertEqual(chunk.tokens(k), rows[index].ids.count)
                }
            }
            if cut > 0 {
                XCTAssertThrowsError(try spill.rows(at: [rows.count - 1])) { XCTAssertTrue("\($0)".contains("short read of the row file"), "\($0)") }
            }
            spill.close()
        }
    }
}

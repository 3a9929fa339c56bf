// The pass-1 pipeline: batches come back in order with every row's result in its slot, whatever
// the thread count and however long each row takes; a failing handler stops it; it counts the
// workers waiting for rows.

import Foundation
import XCTest
@testable import Builder

final class BatchPipelineTests: XCTestCase {
    struct Failure: Error {}

    /// Batches of random sizes, rows of random lengths (a few long ones, so workers move on to
    /// later batches while one finishes): each batch is handed back once, in order, with the
    /// result of each of its rows, for 1 to 4 threads.
    func testBatchesComeBackInOrderWithEveryResult() throws {
        var rng = SeededRandom(seed: 9)
        var batches: [[String]] = []
        var line = 0
        for _ in 0..<40 {
            batches.append((0..<(1 + Int(rng.next() % 300))).map { _ in
                line += 1
                let length = rng.next() % 50 == 0 ? 20_000 : Int(rng.next() % 40)
                return "\(line):" + String(repeating: "x", count: length)
            })
        }
        for threads in 1...4 {
            // A row's result is its line number, read from the row, and a count of its bytes
            // (work in proportion to the row).
            let pipeline = BatchPipeline<Int, String>(workers: Array(0..<threads)) { _, bytes in
                let count = bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "x") ? 1 : 0) }
                return String(decoding: bytes.prefix { $0 != UInt8(ascii: ":") }, as: UTF8.self) + "@\(count)"
            }
            var handed: [[String]] = []
            var lineNumbers: [[Int]] = []
            let handle = { (batch: LineBatch, results: inout [String?]) in
                handed.append(results.map { $0 ?? "missing" })
                lineNumbers.append(batch.lineNumbers)
            }
            for rows in batches {
                var batch = pipeline.takeSpare()
                XCTAssertEqual(batch.count, 0)
                for row in rows {
                    let number = Int(row.prefix { $0 != ":" }) ?? -1
                    Array(row.utf8).withUnsafeBufferPointer { _ = batch.append(number, $0, fullAt: .max) }
                }
                try pipeline.submit(batch, handle: handle)
            }
            try pipeline.finish(handle: handle)
            let expected = batches.map { $0.map { row in "\(row.prefix { $0 != ":" })@\(row.filter { $0 == "x" }.count)" } }
            XCTAssertEqual(handed, expected, "\(threads) threads")
            XCTAssertEqual(lineNumbers, batches.map { $0.map { Int($0.prefix { $0 != ":" }) ?? -1 } })
        }
    }

    /// A handler that throws: the error comes out of `submit` and the workers stop.
    func testAFailingHandlerStopsThePipeline() {
        let pipeline = BatchPipeline<Int, Int>(workers: [0, 1]) { _, bytes in bytes.count }
        var handled = 0
        XCTAssertThrowsError(try {
            for k in 0..<10 {
                var batch = pipeline.takeSpare()
                Array("row \(k)".utf8).withUnsafeBufferPointer { _ = batch.append(k, $0, fullAt: .max) }
                try pipeline.submit(batch) { _, results in
                    XCTAssertEqual(results, [5])
                    handled += 1
                    if handled == 2 { throw Failure() }
                }
            }
        }()) { XCTAssertTrue($0 is Failure) }
        XCTAssertEqual(handled, 2)
    }

    /// The idle count a long row's parts go by (LongText): workers waiting for rows, not one
    /// that holds a row.
    func testIdleCountsTheWorkersWaitingForRows() throws {
        let idle = AtomicCounter()
        let release = DispatchSemaphore(value: 0)
        let pipeline = BatchPipeline<Int, Int>(workers: [0, 1, 2], idle: idle) { _, bytes in
            if bytes.first == UInt8(ascii: "w") { release.wait() }
            return bytes.count
        }
        func waitFor(_ n: Int) -> Bool {
            var tries = 0
            while idle.value != n && tries < 5000 { usleep(1000); tries += 1 }
            return idle.value == n
        }
        XCTAssertTrue(waitFor(3), "idle \(idle.value), 3 expected before any row")
        var batch = pipeline.takeSpare()
        Array("wait".utf8).withUnsafeBufferPointer { _ = batch.append(1, $0, fullAt: .max) }
        var results: [[Int?]] = []
        try pipeline.submit(batch) { results.append($1) }
        XCTAssertTrue(waitFor(2), "idle \(idle.value), 2 expected while one worker holds a row")
        release.signal()
        try pipeline.finish { results.append($1) }
        XCTAssertEqual(results, [[4]])
        XCTAssertTrue(waitFor(3), "idle \(idle.value), 3 expected after the row")
    }
}

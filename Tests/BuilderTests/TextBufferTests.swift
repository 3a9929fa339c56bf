// TextBuffer: appends that grow it keep what was written; emptying keeps the memory.

import XCTest
@testable import Builder

final class TextBufferTests: XCTestCase {
    func testAppendsGrowAndKeepTheBytes() {
        var rng = SeededRandom(seed: 11)
        for capacity in [1, 3, 64] {
            let buffer = TextBuffer(capacity: capacity)
            for _ in 0..<3 {
                var expected: [UInt8] = []
                for _ in 0..<40 {
                    let piece = (0..<Int.random(in: 0...150, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    buffer.append(piece)
                    expected += piece
                    XCTAssertEqual(Array(buffer.buffer), expected)
                }
                buffer.removeAll()
                XCTAssertEqual(buffer.count, 0)
            }
            // `reserve` hands out room at the start; `setCount` says what was written.
            let p = buffer.reserve(5000)
            for k in 0..<5000 { p[k] = UInt8(k % 251) }
            buffer.setCount(4000)
            XCTAssertEqual(Array(buffer.buffer), (0..<4000).map { UInt8($0 % 251) })
        }
    }
}

/// The blocks a worker copies its rows' ids into: every row reads back as stored, whatever was
/// stored after it, across block boundaries and for rows too long for a block.
final class RowIdsTests: XCTestCase {
    func testRowsReadBackAsStoredAcrossBlocks() {
        var rng = SeededRandom(seed: 5)
        let blocks = IdBlocks()
        var stored: [(RowIds, [UInt32])] = []
        // Lengths around the block's room and a quarter of a block, and past a whole block.
        let q = IdBlock.capacity / 4
        var lengths = (0..<400).map { _ in Int(rng.next() % 700) }
        lengths += [0, q - 1, q, q + 1, IdBlock.capacity - 1, IdBlock.capacity, IdBlock.capacity + 3, 1, 2]
        lengths += (0..<200).map { _ in Int(rng.next() % UInt64(q + 2)) }
        for n in lengths {
            let row = (0..<n).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
            // Split as `finish` does (BOS, then the kept tokens) at a random point.
            let cut = n == 0 ? 0 : Int(rng.next() % UInt64(n + 1))
            let ids = row.withUnsafeBufferPointer {
                blocks.store(UnsafeBufferPointer(rebasing: $0[..<cut]), UnsafeBufferPointer(rebasing: $0[cut...]))
            }
            stored.append((ids, row))
        }
        for (k, (ids, row)) in stored.enumerated() {
            XCTAssertEqual(ids.count, row.count, "row \(k)")
            XCTAssertEqual(ids.array, row, "row \(k) of \(row.count) ids")
        }
        XCTAssertEqual(RowIds([7, 8, 9]).array, [7, 8, 9])
        XCTAssertEqual(RowIds([]).array, [])
    }
}

// RowIds and IdBlocks: the blocks encoded rows' ids live in between the passes' threads.

import XCTest
@testable import Builder

/// The blocks a worker copies its rows' ids into: every row reads back as stored, whatever was
/// stored after it, across block boundaries and for rows too long for a block.
final class RowIdsTests: XCTestCase {
    func testRowsReadBackAsStoredAcrossBlocks() {
        var rng = SeededRandom(seed: 5)
        let blocks = IdBlocks()
        var stored: [(RowIds, [UInt32])] = []
        // Lengths around the block's room and a quarter of a block, and past a whole block.
        let q = IdBlock.standardCapacity / 4
        var lengths = (0..<400).map { _ in Int(rng.next() % 700) }
        lengths += [0, q - 1, q, q + 1, IdBlock.standardCapacity - 1, IdBlock.standardCapacity, IdBlock.standardCapacity + 3, 1, 2]
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

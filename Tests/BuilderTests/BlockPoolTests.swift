// BlockPool: blocks come back when the last Data over them is gone, are handed out again, and at
// most `keep` of them wait.

import Foundation
import XCTest
@testable import Builder

final class BlockPoolTests: XCTestCase {
    func testABlockComesBackWhenItsLastDataIsGone() throws {
        let pool = BlockPool(size: 4096, keep: 2)
        let block = try XCTUnwrap(pool.take())
        block.initializeMemory(as: UInt8.self, repeating: 7, count: 4096)
        do {
            // (Data copies a few bytes and gives the block back at once: 4 KB it keeps.)
            let data = pool.data(block, count: 4096)
            let copy = data
            XCTAssertEqual(copy.count, 4096)
            XCTAssertTrue(copy.allSatisfy { $0 == 7 })
            // While a Data holds the block, a take gets another one.
            let other = try XCTUnwrap(pool.take())
            XCTAssertNotEqual(other, block)
            pool.give(other)
            withExtendedLifetime((data, copy)) {}
        }
        // The Data is gone: the block is back, on top of the other.
        XCTAssertEqual(pool.take(), block)
        pool.give(block)
    }

    func testAtMostKeepBlocksWait() throws {
        let pool = BlockPool(size: 64, keep: 2)
        let blocks = try (0..<4).map { _ in try XCTUnwrap(pool.take()) }
        for b in blocks { pool.give(b) }
        // The last two given back were freed; the first two wait, the second on top.
        XCTAssertEqual(pool.take(), blocks[1])
        XCTAssertEqual(pool.take(), blocks[0])
        let fresh = try XCTUnwrap(pool.take())
        XCTAssertFalse(blocks[0..<2].contains(fresh))
        for b in [fresh, blocks[0], blocks[1]] { pool.give(b) }
    }
}

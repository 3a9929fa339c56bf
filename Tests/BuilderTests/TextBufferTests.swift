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

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
}

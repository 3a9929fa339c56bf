// Replays the regex fuzz target's minimized corpus (fuzz/corpus/regex: ~2,000 inputs that
// together reach everything the fuzzer found) and its findings (Fixtures/fuzz-regressions/regex-*)
// with the target's checks, so a change that breaks an odd pattern fails here, in the ordinary
// test run, not only under the fuzzer.

import Foundation
import XCTest
@testable import Tokenizer

final class RegexFuzzCorpusTests: XCTestCase {
    func testCorpusKeepsTheInvariants() throws {
        let dir = packageRoot.appendingPathComponent("fuzz/corpus/regex")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertGreaterThan(names.count, 500)
        // Findings, kept as regression inputs (Fixtures/fuzz-regressions/regex-*).
        let regressions = fixtures.appendingPathComponent("fuzz-regressions")
        let found = try FileManager.default.contentsOfDirectory(atPath: regressions.path).filter { $0.hasPrefix("regex-") }.sorted()
        XCTAssertGreaterThan(found.count, 0)
        let inputs = names.map { dir.appendingPathComponent($0) } + found.map { regressions.appendingPathComponent($0) }
        var compiled = 0
        for url in inputs {
            let name = url.lastPathComponent
            let bytes = Array(try Data(contentsOf: url))
            let cut = bytes.firstIndex(of: 0) ?? bytes.count
            let pattern = String(decoding: bytes[0..<cut], as: UTF8.self)
            let text = Array(String(decoding: bytes[min(cut + 1, bytes.count)...], as: UTF8.self).utf8)
            guard let program = try? RegexProgram(pattern: pattern) else { continue }
            compiled += 1
            let matcher = RegexMatcher()
            text.withUnsafeBufferPointer { buf in
                let n = buf.count
                var last = 0
                matcher.forEachMatch(program, in: buf) { s, e in
                    XCTAssertTrue(s >= last && s <= e && e <= n, "\(name): match [\(s), \(e)) out of order")
                    XCTAssertTrue(s == n || buf[s] & 0xC0 != 0x80, "\(name): match starts inside a scalar")
                    XCTAssertTrue(e == n || buf[e] & 0xC0 != 0x80, "\(name): match ends inside a scalar")
                    last = e
                }
                let bound = 8 * program.instCount * (n + 1) + program.runPCs.count * (4 * (n + 1) + 64) + 64
                XCTAssertLessThanOrEqual(matcher.steps, bound, "\(name): \(JSON.quoted(pattern))")
                let pick = Int(bytes.last ?? 0)
                let behaviors = SplitDelimiterBehavior.allCases
                let step = GenericPreTokenizer(.split(program, behaviors[pick % behaviors.count], invert: pick & 8 != 0))
                var end = 0
                step.split(buf, 0, n, RegexMatcher()) { s, e in
                    XCTAssertTrue(s >= end && s < e && e <= n, "\(name): piece [\(s), \(e)) out of order")
                    end = e
                }
            }
        }
        XCTAssertGreaterThan(compiled, names.count / 3)
        print("regex fuzz corpus: \(names.count) inputs and \(found.count) findings, \(compiled) patterns compiled, invariants hold")
    }
}

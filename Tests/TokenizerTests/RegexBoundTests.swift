// A regex in a tokenizer file is untrusted: matching must stay linear in the text (the bound in
// RegexMatcher.swift) and compiling must refuse patterns past the size limits with an error that
// says where and why. These tests count the matcher's steps, never time.

import Foundation
import XCTest
@testable import Tokenizer

final class RegexBoundTests: XCTestCase {
    /// Steps to run `pattern` over `text` with `forEachMatch`, and the matches.
    func measure(_ pattern: String, _ text: String) throws -> (steps: Int, matches: [[Int]], program: RegexProgram) {
        let program = try RegexProgram(pattern: pattern)
        let matcher = RegexMatcher()
        var matches: [[Int]] = []
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { buf in
            matcher.forEachMatch(program, in: buf) { s, e in matches.append([s, e]) }
        }
        return (matcher.steps, matches, program)
    }

    /// Classic catastrophic-backtracking patterns: the work grows linearly with the text and
    /// stays under 8 × instructions × (n + 1) + the runs' budgets.
    func testAdversarialPatternsAreLinear() throws {
        let cases: [(String, (Int) -> String)] = [
            ("(a*)*b", { String(repeating: "a", count: $0) }),
            ("(x+x+)+y", { String(repeating: "x", count: $0) }),
            ("(a|a)*b", { String(repeating: "a", count: $0) }),
            ("(a|aa)*c", { String(repeating: "a", count: $0) }),
            ("^(a+)+$", { String(repeating: "a", count: $0) + "b" }),
            ("(?:a+)+$", { String(repeating: "a", count: $0) + "!" }),
            ("a*a*a*a*a*b", { String(repeating: "a", count: $0) }),
            ("\\w*\\w*\\w*x", { String(repeating: "w", count: $0) }),
            ("a*\\w*b", { String(repeating: "a", count: $0) }),
            ("\\w+b|a", { String(repeating: "a", count: $0) }),
            ("(.*a){12}", { String(repeating: "a", count: $0) }),
            ("(?=.*x)a", { String(repeating: "a", count: $0) }),
            ("(?!.*x)a", { String(repeating: "a", count: $0) + "x" }),
            ("(?>a*)*b", { String(repeating: "a", count: $0) }),
            ("(?>(?:a|aa)+)b", { String(repeating: "a", count: $0) }),
            ("(?:a*?)*?b", { String(repeating: "a", count: $0) }),
            ("(?<=a+)b", { String(repeating: "a", count: $0) + "b" }),
            ("(?<!a*c)b", { String(repeating: "a", count: $0) + "b" }),
            ("\\s+(?!\\S)|\\s+", { String(repeating: " ", count: $0) + "x" }),
            ("(?i)(?:ß|ss)+x", { String(repeating: "s", count: $0) }),
            ("(\\p{L}|\\p{Lu})*\\d", { String(repeating: "É", count: $0) }),
            // Fuzz finding: a loop through the program's entry had no memo slot on its cycle.
            ("(?>x*.)*y", { String(repeating: "x", count: $0) }),
            ("(?>a)*b", { String(repeating: "a", count: $0) }),
        ]
        for (pattern, make) in cases {
            let small = try measure(pattern, make(2000))
            let big = try measure(pattern, make(4000))
            let n = make(4000).utf8.count
            let bound = 8 * big.program.instCount * (n + 1) + big.program.runPCs.count * (4 * (n + 1) + 64)
            XCTAssertLessThanOrEqual(big.steps, bound, "\(pattern): \(big.steps) steps on \(n) bytes")
            // Linear: doubling the text at most doubles the work (plus slack for constant terms).
            XCTAssertLessThanOrEqual(Double(big.steps), 2.2 * Double(small.steps) + 1000, "\(pattern): \(small.steps) → \(big.steps) steps")
        }
    }

    /// The run instructions fall back to memoized loops when entries keep re-scanning the same
    /// run; the result is the same as without the fallback.
    func testRunFallbackKeepsTheMatches() throws {
        let text = String(repeating: "a", count: 3000)
        let r = try measure("\\w+b|a", text)
        XCTAssertEqual(r.matches.count, 3000)
        XCTAssertEqual(r.matches.first, [0, 1])
        XCTAssertEqual(r.matches.last, [2999, 3000])
    }

    /// A pattern whose memo would exceed the dense limit uses hash sets, with the same matches.
    func testSparseMemoForHugePatterns() throws {
        let text = String(repeating: "ab", count: 40_000)
        let r = try measure("(?:a|b){1000}", text)
        let slots = Int(r.program.subs[0].slotCount)
        XCTAssertGreaterThan(slots * ((text.utf8.count + 64) / 64), RegexMemo.denseLimitWords)
        XCTAssertEqual(r.matches.count, 80)
        XCTAssertEqual(r.matches[1], [1000, 2000])
        XCTAssertLessThanOrEqual(r.steps, 8 * r.program.instCount * (text.utf8.count + 1))
    }

    func error(_ pattern: String) -> RegexError? {
        do {
            _ = try RegexProgram(pattern: pattern)
            return nil
        } catch {
            return error
        }
    }

    func testSizeLimits() throws {
        for pattern in ["(a{1000}){1000}", "((a{100}){100}){100}", "(?:ab|cd){30000}", "(?:\\p{L}{50000}){5}"] {
            let e = try XCTUnwrap(error(pattern), pattern)
            XCTAssertEqual(e.kind, .tooLarge, "\(pattern): \(e)")
        }
        let deep = String(repeating: "(", count: 300) + "a" + String(repeating: ")", count: 300)
        XCTAssertEqual(error(deep)?.kind, .tooLarge)
        XCTAssertEqual(error("a" + String(repeating: "*", count: 200))?.kind, .tooLarge)  // stacked quantifiers nest too
        let classes = (0..<600).map { "[\\x{\(String(0x400 + 3 * $0, radix: 16))}-\\x{\(String(0x401 + 3 * $0, radix: 16))}]" }.joined()
        XCTAssertEqual(error(classes)?.kind, .tooLarge)
        // Oniguruma's own limit on a repeat count.
        XCTAssertEqual(error("a{100001}")?.kind, .syntax)
        // Large but within the limits.
        XCTAssertNil(error("\\p{L}{1,100000}"))
        XCTAssertNil(error("(?:ab|cd){1000}"))
    }

    func testErrorsNameTheOffset() throws {
        let cases: [(String, RegexError.Kind, Int)] = [
            ("ab(", .syntax, 2),
            ("ab)", .syntax, 2),
            ("a[z-a]", .syntax, 3),
            ("x*+*?{", .syntax, -1),
            ("a|*", .syntax, 2),
            ("(?s)a", .syntax, 2),
            ("[[:foo:]]", .syntax, 1),
            ("abc\\", .syntax, 3),
            ("\\u12", .syntax, 0),
            ("a\\p{Han}", .unsupported, 1),
            ("(a)\\1", .unsupported, 3),
            ("x\\K", .unsupported, 1),
            ("(?<=a(?=b))", .unsupported, 0),
            ("a(?<=\\R)", .unsupported, 1),
        ]
        for (pattern, kind, offset) in cases {
            guard let e = error(pattern) else {
                if offset >= 0 { XCTFail("\(pattern) compiled") }
                continue
            }
            XCTAssertEqual(e.kind, kind, "\(pattern): \(e)")
            if offset >= 0 { XCTAssertEqual(e.offset, offset, "\(pattern): \(e)") }
            XCTAssertTrue(e.description.contains("at byte \(e.offset)"), e.description)
        }
    }
}

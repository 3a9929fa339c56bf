// Every sandbox limit stops a runaway template with a `.limit` error that names the limit: no
// hang, no crash, no stack overflow, no runaway allocation.

import XCTest
@testable import Jinja
import Tokenizer

final class LimitTests: XCTestCase {
    /// Renders `source` and returns the error it must raise.
    func limitError(_ source: String, limits: JinjaLimits = .default, data: [String: JSONValue] = [:],
                    file: StaticString = #filePath, line: UInt = #line) -> JinjaError? {
        do {
            let t = try JinjaTemplate(source: source, name: "runaway.jinja", limits: limits)
            let r = try t.render(data: data, limits: limits, clock: fixtureClock)
            XCTFail("rendered \(r.utf8.count) bytes, expected a limit error", file: file, line: line)
            return nil
        } catch {
            XCTAssertEqual(error.kind, .limit, "\(error)", file: file, line: line)
            XCTAssertEqual(error.pythonType, "LimitError", file: file, line: line)
            return error
        }
    }

    func testSteps() {
        var limits = JinjaLimits()
        limits.maxSteps = 1_000_000
        let e = limitError("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", limits: limits)
        XCTAssert(e?.message.contains("JinjaLimits.maxSteps") ?? false, "\(String(describing: e))")
        XCTAssertEqual(e?.line, 1)
    }

    func testStepsCountFilterWork() {
        var limits = JinjaLimits()
        limits.maxSteps = 50_000
        // Sorting and joining big lists costs steps too, not only template nodes.
        let e = limitError("{% for i in range(100) %}{{ range(90000)|list|sort|join(',')|length }}{% endfor %}", limits: limits)
        XCTAssert(e?.message.contains("maxSteps") ?? false, "\(String(describing: e))")
    }

    func testOutputBytes() {
        var limits = JinjaLimits()
        limits.maxOutputBytes = 10_000
        let e = limitError("{% for i in range(100000) %}0123456789{% endfor %}", limits: limits)
        XCTAssert(e?.message.contains("JinjaLimits.maxOutputBytes") ?? false, "\(String(describing: e))")
    }

    func testStringBytesBeforeAllocating() {
        let e = limitError("{{ 'x' * 10**9 }}")
        XCTAssert(e?.message.contains("JinjaLimits.maxStringBytes") ?? false, "\(String(describing: e))")
        let doubling = limitError("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")
        XCTAssert(doubling?.message.contains("maxStringBytes") ?? false, "\(String(describing: doubling))")
        let joined = limitError("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = [ns.s, ns.s]|join %}{% endfor %}")
        XCTAssertNotNil(joined)
    }

    func testContainerLength() {
        let e = limitError("{{ ([1] * 10**8)|length }}")
        XCTAssert(e?.message.contains("JinjaLimits.maxContainerLength") ?? false, "\(String(describing: e))")
        let doubling = limitError("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}")
        XCTAssertNotNil(doubling)
    }

    func testNestedValues() {
        let e = limitError("{% set ns = namespace(x=[]) %}{% for i in range(10000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}")
        XCTAssert(e?.message.contains("JinjaLimits.maxNestingDepth") ?? false, "\(String(describing: e))")
        let dicts = limitError("{% set ns = namespace(x={}) %}{% for i in range(10000) %}{% set ns.x = {'a': ns.x} %}{% endfor %}")
        XCTAssertNotNil(dicts)
        let viaDict = limitError("{% set ns = namespace(x={}) %}{% for i in range(10000) %}{% set ns.x = dict(a=ns.x) %}{% endfor %}")
        XCTAssertNotNil(viaDict)
    }

    func testDeepDataIsRefused() throws {
        var deep = JSONValue.string("x")
        for _ in 0..<300 { deep = .array([deep]) }
        let t = try JinjaTemplate(source: "{{ x }}", name: "deep.jinja")
        XCTAssertThrowsError(try t.render(data: ["x": deep])) { error in
            XCTAssertEqual((error as? JinjaError)?.kind, .limit)
        }
    }

    func testMacroRecursion() {
        let e = limitError("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
        XCTAssert(e?.message.contains("JinjaLimits.maxCallDepth") ?? false, "\(String(describing: e))")
        let mutual = limitError("{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}")
        XCTAssertNotNil(mutual)
        let caller = limitError("{% macro m() %}{% call m() %}x{% endcall %}{{ caller() }}{% endmacro %}{{ m() }}")
        XCTAssertNotNil(caller)
    }

    func testRecursiveLoop() {
        let e = limitError("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}")
        XCTAssert(e?.message.contains("maxCallDepth") ?? false, "\(String(describing: e))")
    }

    func testEvaluationDepth() {
        var limits = JinjaLimits()
        limits.maxEvalDepth = 300
        limits.maxCallDepth = 10_000
        let e = limitError("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", limits: limits)
        XCTAssert(e?.message.contains("JinjaLimits.maxEvalDepth") ?? false, "\(String(describing: e))")
    }

    func testDeepSourceIsRefusedWhileParsing() {
        let cases = [
            "{{ " + String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000) + " }}",
            "{{ " + String(repeating: "[", count: 100_000) + " }}",
            "{{ " + String(repeating: "not ", count: 100_000) + "x }}",
            "{{ " + String(repeating: "-", count: 100_000) + "1 }}",
            "{{ x" + String(repeating: "|trim", count: 100_000) + " }}",
            "{{ 1" + String(repeating: " + 1", count: 100_000) + " }}",
            "{{ x" + String(repeating: ".a", count: 100_000) + " }}",
            "{{ x" + String(repeating: "()", count: 100_000) + " }}",
            String(repeating: "{% if x %}", count: 100_000),
            String(repeating: "{% for x in y %}", count: 100_000),
            "{{ {" + String(repeating: "'a': {", count: 50_000) + " }}",
        ]
        for source in cases {
            do {
                _ = try JinjaTemplate(source: source, name: "deep.jinja")
                XCTFail("compiled a template nested 100,000 deep")
            } catch {
                XCTAssert(error.kind == .limit || error.kind == .syntax, "\(error)")
                if error.kind == .limit { XCTAssert(error.message.contains("maxNestingDepth"), error.message) }
            }
        }
    }

    func testIntegerOverflowIsALimit() {
        let e = limitError("{{ 2 ** 100 }}")
        XCTAssert(e?.message.contains("64 bits") ?? false, "\(String(describing: e))")
        XCTAssertNotNil(limitError("{{ 9223372036854775807 + 1 }}"))
        XCTAssertNotNil(limitError("{{ 1e300|int }}"))
    }

    func testRangeIsJinjasOwnLimit() throws {
        let t = try JinjaTemplate(source: "{{ range(100001)|length }}", name: "range.jinja")
        XCTAssertThrowsError(try t.render()) { error in
            XCTAssertEqual((error as? JinjaError)?.pythonDescription,
                           "OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")
        }
    }

    func testDefaultsAreFarAboveRealTemplates() throws {
        // The largest golden template on a long conversation stays far below every default.
        let source = fixtureText("templates/openai-gpt-oss-120b.jinja")
        let t = try ChatTemplate(source: source, name: "gpt-oss")
        let conversations = try fixtureLines("chat/conversations.jsonl")
        var messages: [JSONValue] = []
        for c in conversations.prefix(60) {
            for m in c["messages"]?.arrayValue ?? [] where m["role"] == .string("user") || m["role"] == .string("assistant") {
                messages.append(m)
            }
        }
        let r = try t.render(messages: .array(messages), addGenerationPrompt: true, clock: fixtureClock)
        XCTAssertGreaterThan(r.utf8.count, 10_000)
    }
}

final class NoCrashTests: XCTestCase {
    /// Inputs whose arithmetic would overflow 64-bit integers: each renders or fails with a
    /// `JinjaError`, never traps.
    func testArithmeticEdgesNeverTrap() {
        let sources = [
            "{{ range(-9223372036854775807, 9223372036854775807)|length }}",
            "{{ range(9223372036854775807, -9223372036854775807, -1)|length }}",
            "{{ 'x'.center(9223372036854775807) }}",
            "{{ 'x'.ljust(9223372036854775807, '*') }}",
            "{{ 'x'.zfill(9223372036854775807) }}",
            "{{ 'x'|indent(9223372036854775807, true) }}",
            "{{ 'abc'|truncate(5, leeway=9223372036854775807) }}",
            "{{ 'abc'[::-9223372036854775807 - 1] }}",
            "{{ (-9223372036854775807 - 1) // -1 }}",
            "{{ (-9223372036854775807 - 1) % -1 }}",
            "{{ -(-9223372036854775807 - 1) }}",
            "{{ (-9223372036854775807 - 1)|abs }}",
            "{{ 2 ** 63 }}",
            "{{ 10 ** 19 }}",
            "{{ 'a' * 9223372036854775807 }}",
            "{{ [1, 2] * 9223372036854775807 }}",
            "{{ '%c' % 9223372036854775807 }}",
            "{{ '{:c}'.format(-1) }}",
            "{{ 1e308 * 10 }}{{ (1e308 * 10)|int }}",
            "{{ (0.0 / 1) ** -1 }}",
            "{{ '%.400f' % 1.5 }}",
            "{{ '{:.100000f}'.format(1.5) }}",
            "{{ xs.index(1, -9223372036854775807 - 1, 9223372036854775807) }}",
            "{{ 'abc'.find('b', -9223372036854775807 - 1, 9223372036854775807) }}",
            "{{ range(0, 10)[-9223372036854775807 - 1] }}",
            "{{ range(5)[::-9223372036854775807 - 1]|list }}",
        ]
        for source in sources {
            do {
                let t = try JinjaTemplate(source: source, name: "edge")
                _ = try t.render(data: ["xs": .array([.number(1, isInteger: true)])], clock: fixtureClock)
            } catch {
                XCTAssert([.evaluation, .limit, .syntax].contains(error.kind), "\(source): \(error)")
            }
        }
    }
}

// The public surface: errors carry the template name, line and column; bad inputs are refused
// with a clear message; the clock; the prefix rule on its own.

import Foundation
import XCTest
@testable import Jinja
import Tokenizer

final class APITests: XCTestCase {
    func testSyntaxErrorNamesTemplateLineAndColumn() {
        do {
            _ = try ChatTemplate(source: "line one\n  {{ a +* b }}", name: "model.jinja")
            XCTFail("compiled")
        } catch {
            XCTAssertEqual(error.kind, .syntax)
            XCTAssertEqual(error.pythonDescription, "TemplateSyntaxError: unexpected '*'")
            XCTAssertEqual(error.templateName, "model.jinja")
            XCTAssertEqual(error.line, 2)
            XCTAssertEqual(error.column, 9)
            XCTAssertEqual(error.description, "model.jinja:2:9: syntax error: TemplateSyntaxError: unexpected '*'")
        }
    }

    func testEvaluationErrorNamesLineAndColumn() throws {
        let t = try ChatTemplate(source: "{% for m in messages %}\n  {{ m.content + 1 }}\n{% endfor %}", name: "t.jinja")
        let messages = try JSON.parse("[{\"role\": \"user\", \"content\": \"x\"}]")
        XCTAssertThrowsError(try t.render(messages: messages, addGenerationPrompt: false)) { e in
            guard let e = e as? JinjaError else { return XCTFail("\(e)") }
            XCTAssertEqual(e.kind, .evaluation)
            XCTAssertEqual(e.pythonDescription, "TypeError: can only concatenate str (not \"int\") to str")
            XCTAssertEqual(e.line, 2)
            XCTAssertGreaterThan(e.column, 0)
        }
    }

    func testRaiseExceptionCarriesTheTemplatesMessage() throws {
        let t = try ChatTemplate(source: "{{ raise_exception('System role not supported') }}", name: "t")
        XCTAssertThrowsError(try t.render(messages: .array([]), addGenerationPrompt: false)) { e in
            guard let e = e as? JinjaError else { return XCTFail("\(e)") }
            XCTAssertEqual(e.kind, .raised)
            XCTAssertEqual(e.message, "System role not supported")
            XCTAssertEqual(e.pythonDescription, "TemplateError: System role not supported")
        }
    }

    func testBadInputsAreRefused() throws {
        let t = try ChatTemplate(source: "{{ messages|length }}", name: "t")
        XCTAssertThrowsError(try t.render(messages: .object([]), addGenerationPrompt: false))
        XCTAssertThrowsError(try t.render(messages: .array([.string("x")]), addGenerationPrompt: false))
        XCTAssertThrowsError(try t.render(messages: .array([]), tools: .string("x"), addGenerationPrompt: false))
        XCTAssertThrowsError(try t.render(messages: .array([]), addGenerationPrompt: false, variables: ["messages": .null]))
        XCTAssertEqual(try t.render(messages: .array([]), tools: .null, addGenerationPrompt: false).text, "0")
    }

    func testUnsupportedTagsAreSyntaxErrors() {
        for tag in ["{% include 'x' %}", "{% extends 'x' %}", "{% import 'x' as y %}", "{% block b %}{% endblock %}"] {
            XCTAssertThrowsError(try ChatTemplate(source: tag, name: "t")) { e in
                XCTAssertEqual((e as? JinjaError)?.kind, .syntax)
            }
        }
    }

    func testClock() {
        XCTAssertEqual(Strftime.format("%Y-%m-%d %H:%M:%S %a %j", clock: .fixed(1768435200)), "2026-01-15 00:00:00 Thu 015")
        XCTAssertEqual(Strftime.format("%Y-%m-%d", clock: .fixed(0)), "1970-01-01")
        XCTAssertEqual(Strftime.format("%Y-%m-%d %H:%M", clock: JinjaClock(epochSeconds: 951_782_400 - 1, utcOffsetSeconds: 3600)),
                       "2000-02-29 00:59")
        setenv("SOURCE_DATE_EPOCH", "1768435200", 1)
        XCTAssertEqual(JinjaClock.fromEnvironment(), .fixed(1768435200))
        unsetenv("SOURCE_DATE_EPOCH")
        XCTAssertEqual(JinjaClock.fromEnvironment(), .now)
    }

    func testPrefixRuleOnItsOwn() throws {
        let source = fixtureText("templates/Qwen-Qwen2.5-7B-Instruct.jinja")
        let t = try ChatTemplate(source: source, name: "qwen")
        let messages = try JSON.parse("""
            [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
             {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]
            """)
        let full = try t.render(messages: messages, addGenerationPrompt: false, clock: fixtureClock)
        let spans = try t.assistantSpansByPrefixRule(messages: messages, clock: fixtureClock)
        XCTAssertEqual(spans?.count, 2)
        for s in spans ?? [] {
            XCTAssert(String(decoding: full.utf8[s], as: UTF8.self).hasSuffix("<|im_end|>\n"))
        }
    }

    func testRendersAreIndependentAcrossThreads() throws {
        let t = try ChatTemplate(source: fixtureText("templates/openai-gpt-oss-120b.jinja"), name: "gpt-oss")
        let conversations = try fixtureLines("chat/conversations.jsonl")
        let expected = conversations.map { c in
            (try? t.render(messages: c["messages"] ?? .array([]), tools: c["tools"], addGenerationPrompt: false, clock: fixtureClock))?.text
        }
        final class Results: @unchecked Sendable {
            var texts: [String?]
            let lock = NSLock()
            init(_ n: Int) { texts = Array(repeating: nil, count: n) }
        }
        let results = Results(conversations.count)
        DispatchQueue.concurrentPerform(iterations: conversations.count) { i in
            let c = conversations[i]
            let text = (try? t.render(messages: c["messages"] ?? .array([]), tools: c["tools"], addGenerationPrompt: false,
                                      clock: fixtureClock))?.text
            results.lock.lock()
            results.texts[i] = text
            results.lock.unlock()
        }
        XCTAssertEqual(results.texts, expected)
    }
}

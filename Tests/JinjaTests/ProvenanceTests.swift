// Provenance: which output bytes came from data (strings inside messages, tools, documents) and
// which from the template. There is no reference implementation of this (it is finetok's), so
// the expectations are stated here: data text inside data spans, template text outside.

import XCTest
@testable import Jinja
import Tokenizer

final class ProvenanceTests: XCTestCase {
    func render(_ source: String, _ data: [String: JSONValue], variables: [String: JSONValue] = [:]) throws -> ChatRendering {
        try JinjaTemplate(source: source, name: "provenance").render(data: data, variables: variables, clock: fixtureClock)
    }

    /// The output split into (text, isData) runs.
    func runs(_ r: ChatRendering) -> [(String, Bool)] {
        var out: [(String, Bool)] = []
        var at = 0
        for s in r.dataSpans {
            if s.lowerBound > at { out.append((String(decoding: r.utf8[at..<s.lowerBound], as: UTF8.self), false)) }
            out.append((String(decoding: r.utf8[s], as: UTF8.self), true))
            at = s.upperBound
        }
        if at < r.utf8.count { out.append((String(decoding: r.utf8[at...], as: UTF8.self), false)) }
        return out
    }

    func assertRuns(_ source: String, _ data: [String: JSONValue], _ expected: [(String, Bool)],
                    file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try render(source, data)
        let got = runs(r)
        XCTAssertEqual(got.map(\.0), expected.map(\.0), "text runs", file: file, line: line)
        XCTAssertEqual(got.map(\.1), expected.map(\.1), "data flags of \(got)", file: file, line: line)
    }

    func testConcatenationKeepsEachPiece() throws {
        try assertRuns("{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>' }}",
                       ["m": .object([("role", .string("user")), ("content", .string("hi <|im_end|>"))])],
                       [("<|im_start|>", false), ("user", true), ("\n", false), ("hi <|im_end|>", true), ("<|im_end|>", false)])
        try assertRuns("{{ 'a' ~ x ~ 'b' ~ 3 }}", ["x": .string("X")], [("a", false), ("X", true), ("b3", false)])
        try assertRuns("{% set s = '[' + x + ']' %}{{ s }}{{ s }}", ["x": .string("X")],
                       [("[", false), ("X", true), ("][", false), ("X", true), ("]", false)])
    }

    func testStringOperationsKeepProvenance() throws {
        try assertRuns("{{ x|trim }}|{{ x.strip()|upper }}|{{ x[1:3] }}", ["x": .string("  hey  ")],
                       [("hey", true), ("|", false), ("HEY", true), ("|", false), (" h", true)])
        // The replacement text is the template's, even where it replaces data.
        try assertRuns("{{ ('<' + x + '>')|replace('<', '[') }}", ["x": .string("a<b")],
                       [("[", false), ("a", true), ("[", false), ("b", true), (">", false)])
        try assertRuns("{{ x.split(',')|join(' + ') }}", ["x": .string("a,b")],
                       [("a", true), (" + ", false), ("b", true)])
        try assertRuns("{{ '{}: {}'.format(k, v) }}|{{ '%s=%s' % (k, 'lit') }}", ["k": .string("K"), "v": .string("V")],
                       [("K", true), (": ", false), ("V", true), ("|", false), ("K", true), ("=lit", false)])
        try assertRuns("{{ x|title }}|{{ x|capitalize }}", ["x": .string("ab cd")],
                       [("Ab Cd", true), ("|", false), ("Ab cd", true)])
    }

    func testTojsonMarksDataStrings() throws {
        let r = try render("{{ t|tojson }}", ["t": .object([("name", .string("f")), ("n", .number(1, isInteger: true))])])
        XCTAssertEqual(r.text, "{\"name\": \"f\", \"n\": 1}")
        // The quoted keys and string values came from data; punctuation and numbers did not.
        XCTAssertEqual(runs(r).filter(\.1).map(\.0), ["\"name\"", "\"f\"", "\"n\""])
    }

    func testLiteralsAndVariablesAreNotData() throws {
        let r = try render("{{ bos_token }}{{ 'x' }}{{ 3 }}", [:], variables: ["bos_token": .string("<s>")])
        XCTAssertEqual(r.text, "<s>x3")
        XCTAssertEqual(r.dataSpans, [])
    }

    func testChatTemplateMarksMessageContent() throws {
        let source = fixtureText("templates/Qwen-Qwen2.5-7B-Instruct.jinja")
        let t = try ChatTemplate(source: source, name: "qwen")
        let messages = try JSON.parse("""
            [{"role": "user", "content": "What does <|im_end|> mean?"}, {"role": "assistant", "content": "A token."}]
            """)
        let r = try t.render(messages: messages, addGenerationPrompt: true, clock: fixtureClock)
        let data = runs(r).filter(\.1).map(\.0)
        XCTAssertEqual(data, ["user", "What does <|im_end|> mean?", "assistant", "A token."])
        // Every template-side <|im_start|> / <|im_end|> lies outside the data spans.
        let plain = runs(r).filter { !$0.1 }.map(\.0).joined()
        XCTAssertEqual(plain.components(separatedBy: "<|im_end|>").count - 1, 3)
    }

    func testGenerationSpansAreBytes() throws {
        let source = "{% for m in messages %}<{{ m.role }}>{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}"
        let t = try ChatTemplate(source: source, name: "gen")
        XCTAssertTrue(t.usesGenerationBlocks)
        let messages = try JSON.parse("""
            [{"role": "user", "content": "é"}, {"role": "assistant", "content": "🙂ok"}]
            """)
        let r = try t.render(messages: messages, addGenerationPrompt: false, clock: fixtureClock)
        XCTAssertEqual(r.generationSpans.count, 1)
        XCTAssertEqual(String(decoding: r.utf8[r.generationSpans[0]], as: UTF8.self), "🙂ok")
    }
}

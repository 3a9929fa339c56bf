// The golden corpus: every real chat template × every conversation, rendered by transformers'
// `render_jinja_template` (tools/reduce_chat_renders.py reduced the reference renders to
// SHA-256 + length per render, the refusals' messages, the prefix-rule spans and the
// {% generation %} spans). Each must match exactly.

import Foundation
import XCTest
@testable import Builder
@testable import Jinja
import Tokenizer

final class ChatGoldenTests: XCTestCase {
    struct Expected {
        var template: String
        var variables: [String: JSONValue]
        var renders: [JSONValue]
        var texts: [String: String]
    }

    static func load() throws -> (conversations: [JSONValue], expected: [Expected]) {
        let conversations = try fixtureLines("chat/conversations.jsonl")
        let expected = try fixtureLines("chat/expected.jsonl").map { line -> Expected in
            let d = line.objectDictionary
            var texts: [String: String] = [:]
            for (k, v) in d["texts"]?.objectValue ?? [] { texts[k] = v.stringValue ?? "" }
            return Expected(template: d["template"]?.stringValue ?? "", variables: d["kwargs"]?.objectDictionary ?? [:],
                            renders: d["renders"]?.arrayValue ?? [], texts: texts)
        }
        return (conversations, expected)
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        var h = SHA256()
        h.update(bytes)
        return h.hexDigest()
    }

    static func spans(_ v: JSONValue?) -> [Range<Int>]? {
        guard let a = v?.arrayValue else { return nil }
        return a.map { p in (p.arrayValue?[0].intValue ?? 0)..<(p.arrayValue?[1].intValue ?? 0) }
    }

    /// Counts and failures of one template's rows.
    struct Outcome {
        var checked = 0, rendered = 0, refused = 0, spansChecked = 0, generationChecked = 0
        var failures: [String] = []
    }

    static func check(_ e: Expected, _ conversations: [JSONValue]) -> Outcome {
        var o = Outcome()
        let template: ChatTemplate
        do {
            template = try ChatTemplate(source: fixtureText("templates/\(e.template)"), name: e.template)
        } catch {
            o.failures.append("\(e.template): does not compile: \(error)")
            return o
        }
        var templateFailures = 0
        for r in e.renders {
            guard let fields = r.arrayValue, let row = fields.first?.intValue else { continue }
            let conv = conversations[row].objectDictionary
            let messages = conv["messages"] ?? .array([])
            let tools = conv["tools"]
            o.checked += 1
            func fail(_ what: String) {
                templateFailures += 1
                if templateFailures <= 3 { o.failures.append("\(e.template) row \(row): \(what)") }
            }
            let result: ChatRendering
            do {
                result = try template.render(messages: messages, tools: tools, addGenerationPrompt: false,
                                             variables: e.variables, clock: fixtureClock)
            } catch {
                if fields.count == 2, let message = fields[1].stringValue {
                    let ours = String(error.pythonDescription.prefix(300))
                    if ours == message { o.refused += 1 } else { fail("error \(ours.debugDescription), expected \(message.debugDescription)") }
                } else {
                    fail("refused with \(error), expected a render")
                }
                continue
            }
            guard fields.count == 5 else {
                fail("rendered, expected the error \(fields.last?.stringValue ?? "")")
                continue
            }
            let expectedBytes = fields[1].intValue ?? -1
            let expectedSHA = fields[2].stringValue ?? ""
            if result.utf8.count != expectedBytes || ChatGoldenTests.sha256(result.utf8) != expectedSHA {
                if let text = e.texts[String(row)] {
                    fail("text differs: " + firstDifference(text, result.text))
                } else {
                    fail("text differs (\(result.utf8.count) bytes, expected \(expectedBytes)); starts \(String(result.text.prefix(300)).debugDescription)")
                }
                continue
            }
            o.rendered += 1
            if template.usesGenerationBlocks {
                let gen = ChatGoldenTests.spans(fields[4]) ?? []
                if result.generationSpans != gen { fail("generation spans \(result.generationSpans), expected \(gen)") }
                o.generationChecked += 1
            }
            let prefix: [Range<Int>]?
            do {
                prefix = try template.assistantSpansByPrefixRule(messages: messages, tools: tools, variables: e.variables,
                                                                 clock: fixtureClock, full: result)
            } catch {
                fail("prefix rule threw \(error)")
                continue
            }
            let want = ChatGoldenTests.spans(fields[3])
            if prefix != want { fail("prefix spans \(String(describing: prefix)), expected \(String(describing: want))") }
            o.spansChecked += 1
        }
        if templateFailures > 3 { o.failures.append("\(e.template): \(templateFailures) rows differ in all") }
        return o
    }

    func testEveryTemplateEveryConversation() throws {
        let (conversations, expected) = try ChatGoldenTests.load()
        XCTAssertEqual(expected.count, 36)
        // One template per task, on every core (the templates are independent).
        final class Collected: @unchecked Sendable {
            var outcomes: [Outcome?]
            let lock = NSLock()
            init(_ n: Int) { outcomes = Array(repeating: nil, count: n) }
        }
        let collected = Collected(expected.count)
        DispatchQueue.concurrentPerform(iterations: expected.count) { i in
            let o = ChatGoldenTests.check(expected[i], conversations)
            collected.lock.lock()
            collected.outcomes[i] = o
            collected.lock.unlock()
        }
        var total = Outcome()
        for o in collected.outcomes.compactMap({ $0 }) {
            total.checked += o.checked
            total.rendered += o.rendered
            total.refused += o.refused
            total.spansChecked += o.spansChecked
            total.generationChecked += o.generationChecked
            total.failures += o.failures
        }
        XCTAssertEqual(total.checked, 7200)
        XCTAssertEqual(total.rendered + total.refused, 7200)
        XCTAssert(total.failures.isEmpty, "\(total.failures.count) failures:\n" + total.failures.prefix(80).joined(separator: "\n"))
        print("golden corpus: \(total.checked) renders checked, \(total.rendered) texts equal, \(total.refused) refusals equal, \(total.spansChecked) prefix-rule span lists, \(total.generationChecked) generation span lists")
    }
}

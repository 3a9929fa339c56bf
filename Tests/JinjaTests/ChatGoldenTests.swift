// The golden corpus: every real chat template × every conversation, rendered by transformers'
// `render_jinja_template` (tools/reduce_chat_renders.py reduced the reference renders to
// SHA-256 + length per render, the refusals' messages, the prefix-rule spans and the
// {% generation %} spans). Each must match exactly.

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

    func testEveryTemplateEveryConversation() throws {
        let (conversations, expected) = try ChatGoldenTests.load()
        XCTAssertEqual(expected.count, 36)
        var checked = 0, rendered = 0, refused = 0, spansChecked = 0, generationChecked = 0
        var failures: [String] = []
        for e in expected {
            let source = fixtureText("templates/\(e.template)")
            let template: ChatTemplate
            do {
                template = try ChatTemplate(source: source, name: e.template)
            } catch {
                failures.append("\(e.template): does not compile: \(error)")
                continue
            }
            var templateFailures = 0
            for r in e.renders {
                guard let fields = r.arrayValue, let row = fields.first?.intValue else { continue }
                let conv = conversations[row].objectDictionary
                let messages = conv["messages"] ?? .array([])
                let tools = conv["tools"]
                checked += 1
                func fail(_ what: String) {
                    templateFailures += 1
                    if templateFailures <= 3 { failures.append("\(e.template) row \(row): \(what)") }
                }
                let result: ChatRendering
                do {
                    result = try template.render(messages: messages, tools: tools, addGenerationPrompt: false,
                                                 variables: e.variables, clock: fixtureClock)
                } catch {
                    if fields.count == 2, let message = fields[1].stringValue {
                        let ours = String(error.pythonDescription.prefix(300))
                        if ours == message { refused += 1 } else { fail("error \(ours.debugDescription), expected \(message.debugDescription)") }
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
                rendered += 1
                if template.usesGenerationBlocks {
                    let gen = ChatGoldenTests.spans(fields[4]) ?? []
                    if result.generationSpans != gen { fail("generation spans \(result.generationSpans), expected \(gen)") }
                    generationChecked += 1
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
                spansChecked += 1
            }
            if templateFailures > 3 { failures.append("\(e.template): \(templateFailures) rows differ in all") }
        }
        XCTAssertEqual(checked, 7200)
        XCTAssert(failures.isEmpty, "\(failures.count) failures:\n" + failures.prefix(80).joined(separator: "\n"))
        print("golden corpus: \(checked) renders checked, \(rendered) texts equal, \(refused) refusals equal, \(spansChecked) prefix-rule span lists, \(generationChecked) generation span lists")
    }
}

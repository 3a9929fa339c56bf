// Assistant spans on the 36 real chat templates × the shared conversations (the Jinja golden
// corpus in Tests/JinjaTests/Fixtures, produced by transformers): where transformers' prefix
// rule holds, the spans are exactly the reference's (and, for templates with {% generation %}
// blocks, the blocks transformers reports); where it fails, the anchored rule must label every
// assistant message's content, never another message's, with spans in order.

import Foundation
import Jinja
import Tokenizer
import XCTest
@testable import Builder

final class ChatSpanTests: XCTestCase {
    static let fixtures = packageRoot.appendingPathComponent("Tests/JinjaTests/Fixtures")
    /// Conversations per template: the first rows cover every kind (tools, reasoning, odd text).
    static let rowsPerTemplate = 60

    struct Expected {
        var template: String
        var kwargs: [String: JSONValue]
        /// row → nil for a refusal, else (prefix spans or nil, generation spans or nil)
        var rows: [Int: (prefix: [Range<Int>]?, generation: [Range<Int>]?)?]
    }

    static func ranges(_ v: JSONValue?) -> [Range<Int>]? {
        guard let list = v?.arrayValue else { return nil }
        return list.compactMap { p in
            guard let a = p.arrayValue, a.count == 2, let s = a[0].intValue, let e = a[1].intValue else { return nil }
            return s..<e
        }
    }

    static func load() throws -> (conversations: [[(String, JSONValue)]], expected: [Expected]) {
        let convText = try String(contentsOf: fixtures.appendingPathComponent("chat/conversations.jsonl"), encoding: .utf8)
        let conversations = try convText.split(separator: "\n").map { line -> [(String, JSONValue)] in
            try JSON.parse(String(line)).objectValue ?? []
        }
        let expText = try String(contentsOf: fixtures.appendingPathComponent("chat/expected.jsonl"), encoding: .utf8)
        let expected = try expText.split(separator: "\n").map { line -> Expected in
            let v = try JSON.parse(String(line))
            var kwargs: [String: JSONValue] = [:]
            for (k, x) in v["kwargs"]?.objectValue ?? [] { kwargs[k] = x }
            var rows: [Int: (prefix: [Range<Int>]?, generation: [Range<Int>]?)?] = [:]
            for r in v["renders"]?.arrayValue ?? [] {
                guard let a = r.arrayValue, let row = a.first?.intValue else { continue }
                rows[row] = a.count == 2 ? .some(nil) : (ranges(a[3]), ranges(a[4]))
            }
            return Expected(template: v["template"]?.stringValue ?? "", kwargs: kwargs, rows: rows)
        }
        return (conversations, expected)
    }

    func testSpansOnEveryTemplate() throws {
        let (conversations, expected) = try ChatSpanTests.load()
        XCTAssertEqual(expected.count, 36)
        var prefixChecked = 0, generationChecked = 0, anchoredChecked = 0
        for e in expected {
            let source = try String(contentsOf: ChatSpanTests.fixtures.appendingPathComponent("templates/\(e.template)"), encoding: .utf8)
            let template = try ChatTemplate(source: source, name: e.template)
            for row in 0..<min(ChatSpanTests.rowsPerTemplate, conversations.count) {
                guard case .some(.some(let want)) = e.rows[row] else { continue }   // refused rows
                let conversation = try Conversation(row: conversations[row], format: .messages)
                let prepared = try template.prepare(messages: .array(conversation.messages), tools: conversation.tools, variables: e.kwargs)
                let clock = JinjaClock.fixed(1_768_435_200)
                let full = RenderedChat(try template.render(prepared, messageCount: prepared.messageCount, addGenerationPrompt: false, clock: clock))
                let found = try AssistantSpans.find(conversation, rendered: full, usesGenerationBlocks: template.usesGenerationBlocks,
                                                    trainOn: .assistant) { count, generationPrompt in
                    RenderedChat(try template.render(prepared, messageCount: count, addGenerationPrompt: generationPrompt, clock: clock))
                }
                let place = "\(e.template) row \(row)"
                if template.usesGenerationBlocks, let generation = want.generation, found.rule == .generation {
                    XCTAssertEqual(found.spans, generation.filter { !$0.isEmpty }, place)
                    generationChecked += 1
                } else if let prefix = want.prefix {
                    XCTAssertEqual(found.rule, .prefix, place)
                    XCTAssertEqual(found.spans, prefix.filter { !$0.isEmpty }, place)
                    prefixChecked += 1
                } else {
                    checkAnchored(found.spans, conversation, full, place)
                    anchoredChecked += 1
                }
            }
        }
        // Every kind of template is exercised (the counts are of this corpus).
        XCTAssertGreaterThan(prefixChecked, 800)
        XCTAssertGreaterThan(generationChecked, 50)
        XCTAssertGreaterThan(anchoredChecked, 400)
    }

    /// The anchored rule's promises: spans sorted and disjoint; each assistant message's content
    /// (as rendered, trimmed) inside a span; no other message's content inside one.
    func checkAnchored(_ spans: [Range<Int>], _ c: Conversation, _ full: RenderedChat, _ place: String) {
        for (x, y) in zip(spans, spans.dropFirst()) { XCTAssertLessThanOrEqual(x.upperBound, y.lowerBound, place) }
        let text = full.text
        func occurrences(_ needle: [UInt8]) -> [Range<Int>] {
            var found: [Range<Int>] = []
            var at = 0
            while let r = AssistantSpans.find(needle[...], in: text, from: at, where: { _ in true }) { found.append(r); at = r.lowerBound + 1 }
            return found
        }
        let assistantTexts = c.messages.indices.filter { c.role($0) == "assistant" }.compactMap { AssistantSpans.anchorText(c.messages[$0]) }
        for a in assistantTexts where !a.isEmpty {
            let places = occurrences(a)
            if places.isEmpty { continue }   // the template does not show it (e.g. dropped reasoning-only turns)
            XCTAssertTrue(places.contains { p in spans.contains { $0.lowerBound <= p.lowerBound && p.upperBound <= $0.upperBound } },
                          "\(place): assistant content not labelled: \(String(decoding: a.prefix(40), as: UTF8.self))")
        }
        for i in c.messages.indices where c.role(i) != "assistant" {
            guard let t = AssistantSpans.anchorText(c.messages[i]), t.count >= 12 else { continue }
            // Text an assistant message quotes (in its content or reasoning) may be labelled there.
            let quoted = assistantTexts + c.messages.indices.filter { c.role($0) == "assistant" }
                .compactMap { c.messages[$0]["reasoning_content"]?.stringValue }.map { Array($0.utf8) }
            if quoted.contains(where: { $0.count >= t.count && $0.firstRange(of: t) != nil }) { continue }
            for p in occurrences(t) {
                XCTAssertFalse(spans.contains { $0.overlaps(p) }, "\(place): \(c.role(i)) text labelled: \(String(decoding: t.prefix(40), as: UTF8.self))")
            }
        }
    }

    func testPerMessageTrainFlagsAndLastAssistant() throws {
        let template = try ChatTemplate(source: BundledChatTemplate.chatml.source, name: "chatml")
        let row: [(String, JSONValue)] = [("messages", try JSON.parse("""
            [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "train": false},
             {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"},
             {"role": "user", "content": "e"}, {"role": "assistant", "content": "f"}]
            """))]
        let c = try Conversation(row: row, format: .messages)
        XCTAssertEqual(c.trainable, [true, false, true, true, true, true])
        XCTAssertNil(c.messages[1]["train"], "the flag is not passed to the template")
        let prepared = try template.prepare(messages: .array(c.messages))
        let full = RenderedChat(try template.render(prepared, messageCount: 6, addGenerationPrompt: false))
        func spans(_ trainOn: TrainOn) throws -> [String] {
            let found = try AssistantSpans.find(c, rendered: full, usesGenerationBlocks: true, trainOn: trainOn) { n, g in
                RenderedChat(try template.render(prepared, messageCount: n, addGenerationPrompt: g))
            }
            return found.spans.map { String(decoding: full.text[$0], as: UTF8.self) }
        }
        XCTAssertEqual(try spans(.assistant), ["d<|im_end|>", "f<|im_end|>"])
        XCTAssertEqual(try spans(.lastAssistant), ["f<|im_end|>"])
        XCTAssertEqual(try spans(.all), [String(decoding: full.text, as: UTF8.self)])
    }

    func testConversationRows() throws {
        func conv(_ json: String, _ format: ChatFormat = .messages) -> Result<Conversation, RowProblem> {
            do {
                guard case .object(let m) = try JSON.parse(json) else { return .failure(.chat("not an object")) }
                return .success(try Conversation(row: m, format: format))
            } catch let e as RowProblem { return .failure(e) } catch { return .failure(.chat("\(error)")) }
        }
        guard case .success(let s) = conv(#"{"conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "Q"}, {"from": "gpt", "value": "A", "weight": 0}]}"#, .sharegpt) else {
            return XCTFail()
        }
        XCTAssertEqual(s.messages.map { $0["role"]?.stringValue }, ["system", "user", "assistant"])
        XCTAssertEqual(s.messages[2]["content"], .string("A"))
        XCTAssertEqual(s.trainable, [true, true, false])
        let errors: [(String, ChatFormat, String)] = [
            (#"{"messages": "hi"}"#, .messages, #""messages" is a string"#),
            (#"{"messages": []}"#, .messages, "empty list"),
            (#"{"messages": [{"content": "x"}]}"#, .messages, #"messages[0] has no "role""#),
            (#"{"messages": [{"role": "user", "content": 3}]}"#, .messages, "messages[0].content is a number"),
            (#"{"messages": [{"role": "user", "content": "x", "train": "no"}]}"#, .messages, "messages[0].train is a string"),
            (#"{"conversations": [{"from": "robot", "value": "x"}]}"#, .sharegpt, #"conversations[0].from is "robot""#),
            (#"{"messages": [{"role": "user", "content": "x"}], "tools": {}}"#, .messages, #""tools" is an object"#),
        ]
        for (json, format, message) in errors {
            guard case .failure(let p) = conv(json, format) else { XCTFail("accepted \(json)"); continue }
            XCTAssertTrue(p.description.contains(message), "\(p.description) — expected \(message)")
        }
    }

    func testTokensOverlappingSpans() {
        // Tokens [0,3) [3,5) [5,5)→[5,6) [6,9) [9,12); spans [4,6) and [11,20).
        let tokens = [0..<3, 3..<5, 5..<6, 6..<9, 9..<12]
        XCTAssertEqual(ExampleEncoder.tokensOverlapping([4..<6, 11..<20], tokens: tokens).ranges, [1..<3, 4..<5])
        XCTAssertEqual(ExampleEncoder.tokensOverlapping([], tokens: tokens).ranges, [])
        XCTAssertEqual(ExampleEncoder.tokensOverlapping([0..<12], tokens: tokens).ranges, [0..<5])
    }
}

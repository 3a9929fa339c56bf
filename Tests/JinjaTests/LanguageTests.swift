// The language corners (whitespace control, undefined, loops, scoping, macros, namespaces,
// slicing, operators, str/repr, filters, tests, Python methods, globals, errors with lines,
// generation spans), each compared with jinja2's own render in transformers' environment
// (tools/make_jinja_fixtures.py wrote Fixtures/language.jsonl).

import XCTest
@testable import Jinja
import Tokenizer

final class LanguageTests: XCTestCase {
    func testEveryCaseMatchesJinja2() throws {
        let cases = try fixtureLines("language.jsonl")
        XCTAssertGreaterThan(cases.count, 200)
        var failures: [String] = []
        var passed = 0
        for c in cases {
            let d = c.objectDictionary
            let name = d["name"]?.stringValue ?? "?"
            let source = d["template"]?.stringValue ?? ""
            let context = d["context"]?.objectDictionary ?? [:]
            let outcome: Result<ChatRendering, JinjaError>
            do {
                if let chat = d["chat"]?.objectDictionary {
                    // Through transformers' render_jinja_template preprocessing.
                    let t = try ChatTemplate(source: source, name: name)
                    outcome = .success(try t.render(messages: chat["messages"] ?? .array([]), tools: chat["tools"],
                                                    documents: chat["documents"],
                                                    addGenerationPrompt: chat["add_generation_prompt"]?.boolValue ?? false,
                                                    variables: chat["kwargs"]?.objectDictionary ?? [:],
                                                    options: .init(dropNullValues: chat["normalize"]?.boolValue ?? false),
                                                    clock: fixtureClock))
                } else {
                    let t = try JinjaTemplate(source: source, name: name)
                    outcome = .success(try t.render(data: context, clock: fixtureClock))
                }
            } catch {
                outcome = .failure(error)
            }
            switch (outcome, d["text"]?.stringValue, d["error"]?.stringValue) {
            case (.success(let r), .some(let text), _):
                if r.text != text {
                    failures.append("\(name): \(firstDifference(text, r.text))")
                    continue
                }
                if let gen = d["generation"]?.arrayValue {
                    let want = gen.map { ($0.arrayValue?[0].intValue ?? 0)..<($0.arrayValue?[1].intValue ?? 0) }
                    if r.generationSpans != want {
                        failures.append("\(name): generation \(r.generationSpans), expected \(want)")
                        continue
                    }
                }
                passed += 1
            case (.failure(let e), _, .some(let error)):
                if e.pythonDescription != error {
                    failures.append("\(name): error \(e.pythonDescription.debugDescription), expected \(error.debugDescription)")
                    continue
                }
                if let line = d["line"]?.intValue, e.line != line {
                    failures.append("\(name): error on line \(e.line), expected line \(line)")
                    continue
                }
                passed += 1
            case (.success(let r), _, .some(let error)):
                failures.append("\(name): rendered \(r.text.debugDescription), expected \(error)")
            case (.failure(let e), .some(let text), _):
                failures.append("\(name): \(e), expected \(text.debugDescription)")
            default:
                failures.append("\(name): malformed case")
            }
        }
        XCTAssert(failures.isEmpty, "\(failures.count) of \(cases.count) cases differ:\n" + failures.joined(separator: "\n"))
        print("language corners: \(passed) of \(cases.count) cases match jinja2")
    }
}

import XCTest
@testable import Builder
import Tokenizer

final class TemplateTests: XCTestCase {
    func testCompletionIsLastPlaceholderAndAfter() throws {
        let t = try Template("Q: {question}\nA: {answer}\n")
        XCTAssertEqual(t.fields, ["question", "answer"])
        guard case .success(let (prompt, completion)) = TemplateChoice(custom: t, name: "t").render(json: #"{"answer": "because", "question": "why?"}"#)
        else { return XCTFail() }
        XCTAssertEqual(prompt, "Q: why?\nA: ")
        XCTAssertEqual(completion, "because\n")
    }

    /// Keys are matched by their decoded bytes: an escaped key is its field, and a value with
    /// escapes decoded after it (in the same buffer) is intact.
    func testEscapedKeys() {
        let qa = TemplateChoice(preset: .qa)
        guard case .success(let (prompt, completion)) = qa.render(json: #"{"qu\u0065stion": "q\u00e9", "\u0061nswer": "\u4e2d!", "answer\u0000": 1}"#)
        else { return XCTFail() }
        XCTAssertEqual(prompt, "### Question:\nqé\n\n### Answer:\n")
        XCTAssertEqual(completion, "中!")
    }

    func testRepeatedPlaceholders() throws {
        let t = TemplateChoice(custom: try Template("{a}-{b}-{a}|{b}"), name: "t")
        guard case .success(let (prompt, completion)) = t.render(json: #"{"b": "2", "a": "1", "c": "x"}"#) else { return XCTFail() }
        XCTAssertEqual(prompt, "1-2-1|")
        XCTAssertEqual(completion, "2")
    }

    func testLiteralBraces() throws {
        let t = try Template("{{json}} {x} }}")
        guard case .success(let (prompt, completion)) = TemplateChoice(custom: t, name: "t").render(json: #"{"x": "v", "json": "no"}"#)
        else { return XCTFail() }
        XCTAssertEqual(prompt, "{json} ")
        XCTAssertEqual(completion, "v }")
    }

    func testTemplateErrors() {
        func message(_ s: String) -> String {
            do { _ = try Template(s); return "" } catch { return error.message }
        }
        XCTAssertTrue(message("Q: {question").contains("unclosed '{'"))
        XCTAssertTrue(message("Q: question}").contains("stray '}'"))
        XCTAssertTrue(message("no fields here").contains("no {field} placeholder"))
        XCTAssertTrue(message("Q: {}").contains("invalid placeholder"))
        XCTAssertTrue(message("Q: {a b}").contains("invalid placeholder"))
    }

    func testQAPresetIsTheCourseTemplate() {
        let qa = TemplateChoice(preset: .qa)
        let r = qa.render(json: #"{"question": "What?", "answer": "That."}"#)
        guard case .success(let (p, c)) = r else { return XCTFail() }
        XCTAssertEqual(p, "### Question:\nWhat?\n\n### Answer:\n")
        XCTAssertEqual(c, "That.")
    }

    func testAlpacaChoosesVariantPerRow() {
        let alpaca = TemplateChoice(preset: .alpaca)
        guard case .success(let (withInput, _)) = alpaca.render(json: #"{"instruction": "Add", "input": "1+1", "output": "2"}"#),
              case .success(let (noInput, _)) = alpaca.render(json: #"{"instruction": "Add", "input": "", "output": "2"}"#),
              case .success(let (missing, _)) = alpaca.render(json: #"{"instruction": "Add", "output": "2"}"#) else { return XCTFail() }
        XCTAssertTrue(withInput.contains("### Input:\n1+1"))
        XCTAssertTrue(withInput.hasPrefix("Below is an instruction that describes a task, paired with an input"))
        XCTAssertFalse(noInput.contains("### Input:"))
        XCTAssertEqual(noInput, missing)
        guard case .success(let (nullInput, _)) = alpaca.render(json: #"{"instruction": "Add", "input": null, "output": "2"}"#) else { return XCTFail() }
        XCTAssertEqual(nullInput, missing)
    }

    /// Fields come out of the JSON text decoded (escapes, non-ASCII), a repeated key gives its
    /// last value (Python's rule), and a row that is not an object or not JSON says so.
    func testFieldsAsTheBuildReadsThem() {
        let qa = TemplateChoice(preset: .qa)
        guard case .success(let (p, c)) = qa.render(json: #"{"answer": "no", "question": "Qu\u00e9 \"x\"?\n中", "answer": "s\u00ed\ud83d\ude00"}"#)
        else { return XCTFail() }
        XCTAssertEqual(p, "### Question:\nQué \"x\"?\n中\n\n### Answer:\n")
        XCTAssertEqual(c, "sí😀")
        guard case .failure(let array) = qa.render(json: "[1]"), case .failure(let bad) = qa.render(json: #"{"question": "q", "answer": "a"#)
        else { return XCTFail() }
        XCTAssertEqual(array.description, "expected a JSON object per line, found an array")
        XCTAssertTrue(bad.description.hasPrefix("malformed JSON: unterminated string"), bad.description)
    }

    func testDetectionOrder() {
        XCTAssertEqual(TemplatePreset.detect(fields: ["answer", "question", "text"]), .qa)
        XCTAssertEqual(TemplatePreset.detect(fields: ["instruction", "input", "output"]), .alpaca)
        XCTAssertEqual(TemplatePreset.detect(fields: ["instruction", "response"]), .instructionResponse)
        XCTAssertEqual(TemplatePreset.detect(fields: ["input", "output"]), .inputOutput)
        XCTAssertEqual(TemplatePreset.detect(fields: ["prompt", "completion"]), .promptCompletion)
        XCTAssertEqual(TemplatePreset.detect(fields: ["text", "id"]), .text)
        XCTAssertNil(TemplatePreset.detect(fields: ["messages"]))
    }

    func testRowProblems() {
        let qa = TemplateChoice(preset: .qa)
        guard case .failure(let missing) = qa.render(json: #"{"question": "q"}"#) else { return XCTFail() }
        XCTAssertTrue(missing.description.contains("missing field \"answer\""), missing.description)
        // The message lists every key of the row, also those no template reads.
        guard case .failure(let other) = qa.render(json: #"{"question": "q", "id": 7, "Answer": "a"}"#) else { return XCTFail() }
        XCTAssertTrue(other.description.contains("(the row has: question, id, Answer)"), other.description)
        guard case .failure(let wrong) = qa.render(json: #"{"question": "q", "answer": 3}"#) else { return XCTFail() }
        XCTAssertEqual(wrong.description, "field \"answer\" is a number, expected a string")
        guard case .failure(let null) = qa.render(json: #"{"question": null, "answer": "a"}"#) else { return XCTFail() }
        XCTAssertEqual(null.description, "field \"question\" is null, expected a string")
    }
}

import XCTest
@testable import Builder
import Tokenizer

final class TemplateTests: XCTestCase {
    func testCompletionIsLastPlaceholderAndAfter() throws {
        let t = try Template("Q: {question}\nA: {answer}\n")
        XCTAssertEqual(t.fields, ["question", "answer"])
        let (p, c) = t.render { $0 == "question" ? "why?" : "because" }
        XCTAssertEqual(p, "Q: why?\nA: ")
        XCTAssertEqual(c, "because\n")
    }

    func testLiteralBraces() throws {
        let t = try Template("{{json}} {x} }}")
        let (p, c) = t.render { _ in "v" }
        XCTAssertEqual(p, "{json} ")
        XCTAssertEqual(c, "v }")
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
        let r = qa.render([("question", .string("What?")), ("answer", .string("That."))])
        guard case .success(let (p, c)) = r else { return XCTFail() }
        XCTAssertEqual(p, "### Question:\nWhat?\n\n### Answer:\n")
        XCTAssertEqual(c, "That.")
    }

    func testAlpacaChoosesVariantPerRow() {
        let alpaca = TemplateChoice(preset: .alpaca)
        guard case .success(let (withInput, _)) = alpaca.render([("instruction", .string("Add")), ("input", .string("1+1")), ("output", .string("2"))]),
              case .success(let (noInput, _)) = alpaca.render([("instruction", .string("Add")), ("input", .string("")), ("output", .string("2"))]),
              case .success(let (missing, _)) = alpaca.render([("instruction", .string("Add")), ("output", .string("2"))]) else { return XCTFail() }
        XCTAssertTrue(withInput.contains("### Input:\n1+1"))
        XCTAssertTrue(withInput.hasPrefix("Below is an instruction that describes a task, paired with an input"))
        XCTAssertFalse(noInput.contains("### Input:"))
        XCTAssertEqual(noInput, missing)
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
        guard case .failure(let missing) = qa.render([("question", .string("q"))]) else { return XCTFail() }
        XCTAssertTrue(missing.description.contains("missing field \"answer\""), missing.description)
        guard case .failure(let wrong) = qa.render([("question", .string("q")), ("answer", .number(3, isInteger: true))]) else { return XCTFail() }
        XCTAssertEqual(wrong.description, "field \"answer\" is a number, expected a string")
        guard case .failure(let null) = qa.render([("question", .null), ("answer", .string("a"))]) else { return XCTFail() }
        XCTAssertEqual(null.description, "field \"question\" is null, expected a string")
    }
}

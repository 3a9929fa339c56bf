// Chat builds against transformers: with the Phi-3 model folder (vocab/phi3, its own chat
// template), finetok's input_ids equal `tokenizer(apply_chat_template(messages, tokenize=False),
// add_special_tokens=False)` and its labels equal the tokens whose HF offsets overlap an
// assistant span (transformers' rule), for `messages` rows with tools and reasoning, ShareGPT
// rows, per-message "train": false / "weight": 0, special-token strings in user text,
// combining characters, tabs, CRLF and emoji. References: tools/reference_chat_build.py
// (SOURCE_DATE_EPOCH=1768435200), in Fixtures/chat/phi3_*.reference.jsonl.

import Foundation
import Tokenizer
import XCTest
@testable import Builder

final class ChatBuildTests: XCTestCase {
    static let phi3 = try! Tokenizer.load(vocabPath("phi3"))
    let chatFixtures = builderFixtures.appendingPathComponent("chat")

    struct Row: Equatable {
        var ids: [Int]
        var labels: [Int]?
    }

    func rows(_ url: URL) throws -> [Row] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            let v = try JSON.parse(String(line))
            return Row(ids: (v["input_ids"]?.arrayValue ?? []).compactMap(\.intValue), labels: v["labels"]?.arrayValue?.compactMap(\.intValue))
        }
    }

    func build(_ input: URL, _ configure: (inout BuildOptions) -> Void = { _ in }) throws -> (rows: [Row], report: BuildReport) {
        let out = temporaryFolder("chat-build")
        defer { try? FileManager.default.removeItem(at: out) }
        var o = BuildOptions()
        o.testSize = 0
        o.threads = 2
        configure(&o)
        let report = try Build.run(inputs: [input.path], tokenizer: ChatBuildTests.phi3, options: o, outputDirectory: out.path)
        return (try rows(out.appendingPathComponent("train.jsonl")), report)
    }

    func testPhi3MatchesTransformers() throws {
        for name in ["conversations40", "sharegpt20", "flags"] {
            let reference = try rows(chatFixtures.appendingPathComponent("phi3_\(name).reference.jsonl"))
            let (got, report) = try build(chatFixtures.appendingPathComponent("\(name).jsonl"))
            // Rows without a labelled token are dropped and counted, never kept.
            let kept = reference.filter { $0.labels.map { $0.contains { $0 != -100 } } ?? true }
            XCTAssertEqual(report.droppedNoLabels, reference.count - kept.count, name)
            XCTAssertEqual(got.count, kept.count, name)
            var labelsChecked = 0
            for (k, (r, g)) in zip(kept, got).enumerated() {
                XCTAssertEqual(g.ids, r.ids, "\(name) row \(k): ids")
                if let labels = r.labels {
                    XCTAssertEqual(g.labels, labels, "\(name) row \(k): labels")
                    labelsChecked += 1
                }
            }
            XCTAssertEqual(labelsChecked, kept.count, "\(name): the Phi-3 template keeps the prefix rule")
        }
    }

    func testContentSpecialsAsText() throws {
        // Row 1 of flags.jsonl has "<|end|>" in a user message and "<|assistant|>" in an answer.
        let input = chatFixtures.appendingPathComponent("flags.jsonl")
        let asTokens = try build(input)
        XCTAssertEqual(asTokens.report.chatSpecialsInData, 1)
        let asText = try build(input) { $0.chat.contentSpecials = .text }
        XCTAssertEqual(asText.report.chatSpecialsInData, 1, "counted in both modes")
        let end: Int = 32007, assistant: Int = 32001
        // As HF: the user's "<|end|>" is the control token, one more than the four the template
        // writes (after two user and two assistant turns; Phi-3's template drops the system turn).
        XCTAssertEqual(asTokens.rows[0].ids.filter { $0 == end }.count, 5)
        XCTAssertEqual(asText.rows[0].ids.filter { $0 == end }.count, 4)
        XCTAssertEqual(asText.rows[0].ids.filter { $0 == assistant }.count, 2, "only the template's own")
        // The rest of the rows have no special strings in their data: identical either way.
        XCTAssertEqual(Array(asText.rows.dropFirst()), Array(asTokens.rows.dropFirst()))
        XCTAssertEqual(try ChatBuildTests.phi3.decode(asText.rows[0].ids.map(UInt32.init)), try ChatBuildTests.phi3.decode(asTokens.rows[0].ids.map(UInt32.init)))
    }

    func testTrainOnChoicesAndEOS() throws {
        let input = chatFixtures.appendingPathComponent("flags.jsonl")
        let all = try build(input) { $0.chat.trainOn = .all }
        XCTAssertEqual(all.rows[0].labels, all.rows[0].ids, "--train-on all labels everything")
        XCTAssertEqual(all.rows.count, 4, "no row is left without labels")
        let last = try build(input) { $0.chat.trainOn = .lastAssistant }
        let assistant = try build(input)
        XCTAssertEqual(last.rows[0].labels, assistant.rows[0].labels, "the first answer is train: false anyway")
        let eos = try build(input) { $0.chat.appendEOS = true }
        // The row without an answer now has one labelled token (EOS), so it is kept.
        XCTAssertEqual(eos.rows.count, assistant.rows.count + 1)
        for (a, b) in zip(eos.rows.enumerated().filter { $0.offset != 2 }.map(\.element), assistant.rows) {
            XCTAssertEqual(a.ids, b.ids + [32000], "--eos appends the tokenizer's end-of-text, labelled")
            XCTAssertEqual(a.labels, (b.labels ?? []) + [32000])
        }
    }

    func testLengthsCountChatRows() throws {
        var o = LengthsOptions()
        o.threads = 1
        let report = try Lengths.run(inputs: [chatFixtures.appendingPathComponent("flags.jsonl").path], tokenizer: ChatBuildTests.phi3, options: o)
        let reference = try rows(chatFixtures.appendingPathComponent("phi3_flags.reference.jsonl"))
        XCTAssertEqual(report.examples, reference.count)
        XCTAssertEqual(report.totalTokens, reference.reduce(0) { $0 + $1.ids.count })
    }

    func testTemplateErrorsNameTheirPlace() throws {
        let dir = temporaryFolder("chat-errors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let rowsPath = writeFile(dir, "rows.jsonl", #"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}"# + "\n"
            + #"{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}"# + "\n")
        func failure(_ source: String) -> String {
            var o = BuildOptions()
            o.chat.template = .text(source, path: "t.jinja")
            do {
                _ = try Build.run(inputs: [rowsPath], tokenizer: ChatBuildTests.phi3, options: o, outputDirectory: dir.appendingPathComponent("out").path)
                return "no error"
            } catch { return "\(error)" }
        }
        let syntax = failure("{% for m in messages %}{{ m.content }\n{% endfor %}")
        XCTAssertTrue(syntax.hasPrefix("chat template t.jinja:1:"), syntax)
        let raised = failure("{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{{ m.content }}{% endfor %}")
        XCTAssertTrue(raised.hasPrefix("\(rowsPath):2: the chat template refuses this conversation: t.jinja:1:"), raised)
        XCTAssertTrue(raised.contains("System role not supported"), raised)
    }
}

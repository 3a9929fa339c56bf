// Masking, EOS, truncation and padding on real tokenizers, with the invariants stated.

import XCTest
@testable import Builder
import Tokenizer

final class EncodingTests: XCTestCase {
    func encoder(_ t: Tokenizer = Loaded.gpt2, _ configure: (inout EncodingSettings) -> Void = { _ in }) -> ExampleEncoder {
        var s = EncodingSettings()
        s.eosId = t.eosTokenId
        configure(&s)
        return ExampleEncoder(tokenizer: t, template: TemplateChoice(preset: .qa), settings: s)
    }

    func row(_ e: ExampleEncoder, _ json: String) -> RowOutcome {
        var bytes = Array(json.utf8)
        return bytes.withUnsafeMutableBufferPointer { e.process(UnsafeBufferPointer($0)) }
    }

    func ok(_ outcome: RowOutcome, file: StaticString = #filePath, line: UInt = #line) -> EncodedRow? {
        if case .ok(let r) = outcome { return r }
        XCTFail("expected a row, got \(outcome)", file: file, line: line)
        return nil
    }

    /// The first labelled position of an instruction row (its prompt's token count).
    func firstLabel(_ r: EncodedRow) -> Int { r.labels.ranges.first?.lowerBound ?? r.ids.count }

    let example = #"{"question": "What is 2+2?", "answer": "Four."}"#

    func testSeparateEncodingMasksThePromptAndLabelsEOS() throws {
        let gpt2 = Loaded.gpt2
        guard let r = ok(row(encoder(), example)) else { return }
        let prompt = gpt2.encode("### Question:\nWhat is 2+2?\n\n### Answer:\n")
        let completion = gpt2.encode("Four.")
        XCTAssertEqual(r.ids.array, prompt + completion + [50256])
        XCTAssertEqual(r.labels.ranges, [prompt.count..<r.ids.count])
        var a = TrainingArrays()
        Build.fill(&a, ids: r.ids.array, labels: r.labels.ranges, width: nil, pad: 50256, side: .right)
        // Invariants: labels equal input_ids wherever not -100; -100 count = prompt tokens + padding.
        for (id, label) in zip(a.inputIds, a.labels) where label != -100 { XCTAssertEqual(id, label) }
        XCTAssertEqual(a.labels.filter { $0 == -100 }.count, prompt.count)
        XCTAssertEqual(a.labels.last, 50256, "EOS is in the loss")
    }

    func testPadEqualToEOSNeverHidesEOS() {
        guard let r = ok(row(encoder(), example)) else { return }
        var a = TrainingArrays()
        Build.fill(&a, ids: r.ids.array, labels: r.labels.ranges, width: r.ids.count + 5, pad: 50256, side: .right)
        XCTAssertEqual(a.inputIds.suffix(6), [50256, 50256, 50256, 50256, 50256, 50256])
        XCTAssertEqual(Array(a.labels.suffix(6)), [50256, -100, -100, -100, -100, -100], "EOS labelled, padding not")
        XCTAssertEqual(Array(a.attentionMask.suffix(6)), [1, 0, 0, 0, 0, 0])
        Build.fill(&a, ids: r.ids.array, labels: r.labels.ranges, width: r.ids.count + 2, pad: 50256, side: .left)
        XCTAssertEqual(Array(a.attentionMask.prefix(3)), [0, 0, 1])
        XCTAssertEqual(Array(a.labels.prefix(3)), [-100, -100, -100])
        XCTAssertEqual(a.labels.last, 50256)
    }

    func testTrainOnPromptAndNoEOS() {
        guard let r = ok(row(encoder(Loaded.gpt2) { $0.trainOnPrompt = true; $0.eosId = nil }, example)) else { return }
        XCTAssertEqual(r.labels.ranges, [0..<r.ids.count])
        XCTAssertNotEqual(r.ids.array.last, 50256)
    }

    func testTruncationSides() {
        guard let full = ok(row(encoder(), example)) else { return }
        let n = full.ids.count, m = firstLabel(full)
        guard let left = ok(row(encoder { $0.maxLength = n - 3; $0.truncation = .left }, example)),
              let right = ok(row(encoder { $0.maxLength = m + 1; $0.truncation = .right }, example)) else { return }
        XCTAssertEqual(left.ids.array, Array(full.ids.array.suffix(n - 3)))
        XCTAssertEqual(left.labels.ranges, [(m - 3)..<(n - 3)])
        XCTAssertEqual(left.truncatedTokens, 3)
        XCTAssertEqual(right.ids.array, Array(full.ids.array.prefix(m + 1)))
        XCTAssertEqual(right.labels.ranges, [m..<(m + 1)])
        guard case .tooLong(let tokens) = row(encoder { $0.maxLength = n - 1; $0.truncation = .drop }, example) else { return XCTFail() }
        XCTAssertEqual(tokens, n)
        // Right truncation inside the prompt leaves no labelled token: dropped, not a NaN loss.
        guard case .noLabels = row(encoder { $0.maxLength = m; $0.truncation = .right }, example) else { return XCTFail() }
    }

    func testJointModeMasksByByteOffsets() {
        // "Answer:\n" then "Four." — joint and separate agree here; the masks must agree too.
        guard let sep = ok(row(encoder(), example)), let joint = ok(row(encoder { $0.joint = true }, example)) else { return }
        XCTAssertEqual(sep.ids.array, joint.ids.array)
        XCTAssertEqual(sep.labels, joint.labels)
        XCTAssertFalse(sep.differsInOtherMode)
        // A completion glued to the prompt's last word: joint encoding merges across the boundary,
        // and the merged token (holding completion bytes) is labelled.
        let glued = #"{"question": "q", "answer": "ing"}"#
        let e = ExampleEncoder(tokenizer: Loaded.gpt2, template: TemplateChoice(custom: try! Template("Say {question} runn{answer}"), name: "t"),
                               settings: { var s = EncodingSettings(); s.joint = true; s.eosId = nil; return s }())
        guard let g = ok(row(e, glued)) else { return }
        XCTAssertTrue(g.differsInOtherMode)
        let ids = Loaded.gpt2.encode("Say q running")
        XCTAssertEqual(g.ids.array, ids)
        XCTAssertEqual(try Loaded.gpt2.decode(Array(ids[firstLabel(g)...])), " running")
    }

    func testPlainTextMasksNothing() {
        let e = ExampleEncoder(tokenizer: Loaded.gpt2, template: TemplateChoice(preset: .text),
                               settings: { var s = EncodingSettings(); s.eosId = 50256; return s }())
        guard let r = ok(row(e, #"{"text": "Just some text."}"#)) else { return }
        XCTAssertEqual(r.labels.ranges, [0..<r.ids.count])
        XCTAssertEqual(r.ids.array, Loaded.gpt2.encode("Just some text.") + [50256])
    }

    func testBadRows() {
        let e = encoder()
        guard case .invalid(.notAnObject("an array")) = row(e, "[1, 2]") else { return XCTFail() }
        guard case .invalid(.malformed(_, let col)) = row(e, #"{"question": "x", "answer": "y""#) else { return XCTFail() }
        XCTAssertEqual(col, 32, "just past the last byte")
        // A chat row under an instruction template: told how to build it.
        guard case .invalid(.chat(let m)) = row(e, #"{"messages": [{"role": "user", "content": "hi"}]}"#) else { return XCTFail() }
        XCTAssertTrue(m.contains("chat conversation"), m)
        guard case .blank = row(e, "   ") else { return XCTFail() }
    }
}

final class CleanBoundaryTests: XCTestCase {
    /// Wherever the shortcut says the boundary is clean, encoding the joined text really gives the
    /// concatenation — checked on every row of the course data and two shared-style datasets,
    /// for tokenizers of all three formats.
    func testShortcutAgreesWithJointEncoding() throws {
        let lamini = try String(contentsOf: packageRoot.appendingPathComponent("examples/lamini_docs.jsonl"), encoding: .utf8)
        let piqa = try String(contentsOf: builderFixtures.appendingPathComponent("mini_piqa.jsonl"), encoding: .utf8)
        let cl100k = try Tokenizer.load(vocabPath("cl100k_base"))
        var clean = 0, checked = 0
        for (text, templates) in [(lamini, [TemplatePreset.qa]), (piqa, [.instructionResponse])] {
            for line in text.split(separator: "\n") {
                for preset in templates {
                    guard case .success(let (p, c)) = TemplateChoice(preset: preset).render(json: String(line)) else { continue }
                    for t in [Loaded.gpt2, Loaded.pythia, cl100k] {
                        checked += 1
                        guard t.splitsCleanly(prompt: p, completion: c) else { continue }
                        clean += 1
                        XCTAssertEqual(t.encode(p + c), t.encode(p) + t.encode(c), "\(p)|\(c.prefix(40))")
                    }
                }
            }
        }
        XCTAssertGreaterThan(clean, checked / 2, "the shortcut should apply to most rows")
        // And it declines where it must: no newline, space before it, a space or mark after it.
        XCTAssertFalse(Loaded.gpt2.splitsCleanly(prompt: "A:", completion: "b"))
        XCTAssertFalse(Loaded.gpt2.splitsCleanly(prompt: "A: \n", completion: "b"))
        XCTAssertFalse(Loaded.gpt2.splitsCleanly(prompt: "A:\n", completion: " b"))
        XCTAssertFalse(Loaded.pythia.splitsCleanly(prompt: "A:\n", completion: "\u{301}b"))
        XCTAssertTrue(Loaded.gpt2.splitsCleanly(prompt: "A:\n", completion: "b"))
    }
}

// `finetok render` and chat builds from the command line: the three output forms, refused rows,
// and errors that name the template's line or the data's.

import Foundation
import XCTest

final class ChatCLITests: XCTestCase {
    let phi3 = packageRoot.appendingPathComponent("vocab/phi3").path
    let rows = packageRoot.appendingPathComponent("Tests/BuilderTests/Fixtures/chat/flags.jsonl").path

    func testRenderTextJSONAndTokens() throws {
        let plain = try finetok(["render", rows, "--vocab", phi3])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        // Not a terminal: labelled text between markers, the answer and its end-of-turn marker.
        XCTAssertTrue(plain.stdout.contains("── \(rows):2 · labels by prefix"), plain.stdout)
        XCTAssertTrue(plain.stdout.contains("⟦A2<|end|>\n⟧"), plain.stdout)
        XCTAssertFalse(plain.stdout.contains("⟦A1"), "weight 0: not labelled")

        let json = try finetok(["render", rows, "--vocab", phi3, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let lines = json.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        for line in lines {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let text = object["text"] as? String, let spans = object["spans"] as? [[Int]] else { return XCTFail(String(line)) }
            let bytes = Array(text.utf8)
            for s in spans { XCTAssertTrue(s[0] < s[1] && s[1] <= bytes.count, "\(s)") }
        }
        XCTAssertTrue(lines[1].hasPrefix(#"{"line": 2, "text": "<s><|user|>\nQ1<|end|>\n<|assistant|>\nA1<|end|>"#), String(lines[1]))

        let tokens = try finetok(["render", rows, "--vocab", phi3, "--tokens"])
        XCTAssertEqual(tokens.status, 0, tokens.stderr)
        // id, the text it covers, label: the answer's tokens labelled, the prompt's -100.
        XCTAssertTrue(tokens.stdout.contains("32010\t\"<|user|>\\n\"\t-100"), tokens.stdout)
        XCTAssertTrue(tokens.stdout.contains("32007\t\"<|end|>\\n\"\t32007"), tokens.stdout)
    }

    func testRefusedRowsAndTemplateErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-chat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let template = dir.appendingPathComponent("strict.jinja").path
        try Data("{% for m in messages %}\n{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}\n{{ m.content }}\n{% endfor %}".utf8)
            .write(to: URL(fileURLWithPath: template))
        // Row 1 has a system message.
        let stop = try finetok(["render", rows, "--chat-template", template])
        XCTAssertEqual(stop.status, 1)
        XCTAssertTrue(stop.stderr.contains("\(rows):1: the chat template refuses this conversation: \(template):2:"), stop.stderr)
        XCTAssertTrue(stop.stderr.contains("System role not supported"), stop.stderr)
        let go = try finetok(["render", rows, "--chat-template", template, "--json", "--skip-invalid"])
        XCTAssertEqual(go.status, 0, go.stderr)
        XCTAssertTrue(go.stdout.hasPrefix(#"{"line": 1, "error": "the chat template refuses"#), go.stdout)

        let broken = dir.appendingPathComponent("broken.jinja").path
        try Data("line one\n{% if x %}\n{{ y }\n".utf8).write(to: URL(fileURLWithPath: broken))
        let syntax = try finetok(["build", rows, "--chat-template", broken, "--out", dir.appendingPathComponent("o").path])
        XCTAssertEqual(syntax.status, 1)
        XCTAssertTrue(syntax.stderr.contains("\(broken):3:"), syntax.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("o/train.jsonl").path))

        let none = try finetok(["build", rows, "--vocab", "gpt2", "--out", dir.appendingPathComponent("p").path])
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.stderr.contains("has no chat template: pass --chat-template FILE, or a bundled one (chatml"), none.stderr)
        let badKwargs = try finetok(["render", rows, "--vocab", phi3, "--template-kwargs", "[1]"])
        XCTAssertEqual(badKwargs.status, 2)
        XCTAssertTrue(badKwargs.stderr.contains("--template-kwargs must be a JSON object"), badKwargs.stderr)
    }

    func testChatBuildSummary() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-chat-build-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let run = try finetok(["build", rows, "--vocab", phi3, "--out", out, "--test-size", "0"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("rows: chat messages (detected"), run.stderr)
        XCTAssertTrue(run.stdout.contains("labels       assistant turns; spans found: 3 by prefix"), run.stdout)
        XCTAssertTrue(run.stdout.contains("dropped      1 with no labelled token left"), run.stdout)
        XCTAssertTrue(run.stdout.contains("specials     1 rows have special-token strings in message data"), run.stdout)
        let manifest = try String(contentsOfFile: out + "/manifest.json", encoding: .utf8)
        XCTAssertTrue(manifest.contains("\"chat\": {"), manifest)
        XCTAssertTrue(manifest.contains("\"train_on\": \"assistant\""), manifest)
    }
}

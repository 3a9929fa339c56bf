// End-to-end tests of the `finetok` executable: output, exit codes and error messages.

import Foundation
import XCTest

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The `finetok` built next to this test bundle.
func finetokBinary() -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent("finetok")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return Bundle.main.bundleURL.appendingPathComponent("finetok")
}

@discardableResult
func finetok(_ args: [String], stdin: String? = nil, cwd: URL? = nil) throws -> Run {
    let p = Process()
    p.executableURL = finetokBinary()
    p.arguments = args
    if let cwd { p.currentDirectoryURL = cwd }
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    if let stdin { inp.fileHandleForWriting.write(Data(stdin.utf8)) }
    try inp.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

final class CLITests: XCTestCase {
    var dir: URL!
    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ text: String) -> String {
        let p = dir.appendingPathComponent(name).path
        XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: Data(text.utf8)))
        return p
    }

    func testEncodeTextWithBundledVocabFromAnyFolder() throws {
        // Run from a folder outside the package: the bundled vocabulary is still found.
        let r = try finetok(["encode", "--vocab", "pythia", "--text", "Hello World from China!"], cwd: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "[12092, 3645, 432, 4135, 2]\n")
        let gpt2 = try finetok(["encode", "--text", "Hello world"], cwd: dir)
        XCTAssertEqual(gpt2.stdout, "[15496, 995]\n")
    }

    func testEncodeJSONLAndStdin() throws {
        let p = write("docs.jsonl", "{\"text\": \"Hello world\", \"id\": 1}\n\n{\"text\": \"\"}\n{\"body\": \"x\", \"text\": \"Hi\"}\n")
        let r = try finetok(["encode", p])
        XCTAssertEqual(r.stdout, "[15496, 995]\n[]\n[17250]\n")
        let field = try finetok(["encode", "--input", p, "--field", "id"])
        XCTAssertEqual(field.status, 1)
        XCTAssertTrue(field.stderr.contains("\(p):1: field \"id\" is a number, expected a string"), field.stderr)
        let stdin = try finetok(["encode", "-"], stdin: "Hello world")
        XCTAssertEqual(stdin.stdout, "[15496, 995]\n")
    }

    func testDecode() throws {
        let r = try finetok(["decode", "--vocab", "pythia", "--ids", "0,12092,3645", "--skip-special"])
        XCTAssertEqual(r.stdout, "Hello World\n")
        let p = write("ids.jsonl", "[15496, 995]\n[50256]\n")
        let j = try finetok(["decode", p])
        XCTAssertEqual(j.stdout, "\"Hello world\"\n\"<|endoftext|>\"\n")
        let bad = try finetok(["decode", "--ids", "50257"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("unknown token id 50257"), bad.stderr)
        let notId = write("bad.jsonl", "[1, \"x\"]\n")
        let b2 = try finetok(["decode", notId])
        XCTAssertTrue(b2.stderr.contains("\(notId):1: item 1 is a string"), b2.stderr)
    }

    func testUsageErrorsExitTwo() throws {
        let unknown = try finetok(["encode", "--txt", "x"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("finetok: error: unknown option --txt (did you mean --text?)"), unknown.stderr)
        let missing = try finetok(["encode", "--text"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("option --text needs a value"))
        let command = try finetok(["biuld"])
        XCTAssertEqual(command.status, 2)
        XCTAssertTrue(command.stderr.contains("did you mean build?"), command.stderr)
        let pattern = try finetok(["encode", "--pattern", "xx", "--text", "a"])
        XCTAssertEqual(pattern.status, 2)
        let encoding = try finetok(["encode", "--vocab", "cl100k_base", "--encoding", "nope", "--text", "a"])
        XCTAssertEqual(encoding.status, 2)
        XCTAssertTrue(encoding.stderr.contains("unknown encoding \"nope\""), encoding.stderr)
    }

    func testHelp() throws {
        for command in ["encode", "decode", "build"] {
            let r = try finetok([command, "--help"])
            XCTAssertEqual(r.status, 0)
            XCTAssertTrue(r.stdout.hasPrefix("usage: finetok \(command)"), r.stdout)
        }
        XCTAssertTrue(try finetok(["--help"]).stdout.contains("commands:"))
    }

    func testBuildQuickStartAndErrors() throws {
        let out = dir.appendingPathComponent("out").path
        let lamini = packageRoot.appendingPathComponent("examples/lamini_docs.jsonl").path
        let r = try finetok(["build", lamini, "--vocab", "pythia", "--template", "qa", "--max-length", "512", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("1400 read → 1260 train, 140 test"), r.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), ["manifest.json", "test.jsonl", "train.jsonl"])
        // Again into the same folder: refused, nothing changed.
        let again = try finetok(["build", lamini, "--vocab", "pythia", "--out", out])
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.stderr.contains("is not empty"), again.stderr)
        // A bad row: input error, exit 1, file:line, no output.
        let bad = write("bad.jsonl", "{\"question\": \"q\", \"answer\": \"a\"}\n{\"question\": \"q\"}\n")
        let out2 = dir.appendingPathComponent("out2").path
        let b = try finetok(["build", bad, "--out", out2])
        XCTAssertEqual(b.status, 1)
        XCTAssertTrue(b.stderr.contains("finetok: error: \(bad):2: missing field \"answer\""), b.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out2))
        let npy = try finetok(["build", bad, "--format", "npy", "--out", out2])
        XCTAssertEqual(npy.status, 2)
        XCTAssertTrue(npy.stderr.contains("--format npy writes 2-D arrays"), npy.stderr)
    }
}

final class LengthsCLITests: XCTestCase {
    func testLengthsReportJSONAndSVG() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-len-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lamini = packageRoot.appendingPathComponent("examples/lamini_docs.jsonl").path
        let svg = dir.appendingPathComponent("l.svg").path
        let r = try finetok(["lengths", lamini, "--vocab", "pythia", "--max-length", "256", "--svg", svg, "--top", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for needle in ["examples    1,400 read", "total             10    91.3      86     139     160     204     490",
                       "max_length 256: 6 examples (0.4%) exceed it", "suggested max_length: 95% → 160 (192)",
                       "◀ max_length 256", "490 tokens  \(lamini):985"] {
            XCTAssertTrue(r.stdout.contains(needle), "missing \(needle) in\n\(r.stdout)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: svg))
        let j = try finetok(["lengths", lamini, "--vocab", "pythia", "--json"])
        XCTAssertEqual(j.status, 0)
        let doc = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(doc?["examples"] as? Int, 1400)
        // numpy.percentile(totals, 99) over HF-tokenizers lengths, printed as Python prints it.
        // (Compared as text: Foundation's JSON reader on Linux rounds the last digit.)
        XCTAssertTrue(j.stdout.contains("\"p99\": 204.04999999999995"), j.stdout)
    }
}

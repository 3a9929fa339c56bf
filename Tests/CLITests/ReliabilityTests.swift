// Bad input, end to end: every case names the file and line, exits with the documented code
// (1 input, 2 usage, 3 output/I-O) and leaves no output file behind.

import Foundation
import XCTest

final class ReliabilityTests: XCTestCase {
    var dir: URL!
    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-rel-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = dir.appendingPathComponent(name).path
        XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: Data(bytes)))
        return p
    }
    func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }

    /// Runs `finetok build FILE --out DIR`, checks the exit code, the message, and that DIR holds nothing.
    func expectBuildFailure(_ input: String, status: Int32 = 1, contains message: String, extra: [String] = [],
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let out = dir.appendingPathComponent("out-\(UUID().uuidString)").path
        let r = try finetok(["build", input, "--out", out, "--quiet"] + extra)
        XCTAssertEqual(r.status, status, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("finetok: error: "), r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(message), "expected \(message) in: \(r.stderr)", file: file, line: line)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? [], [], "output left behind", file: file, line: line)
    }

    let good = #"{"question": "q", "answer": "a"}"#

    func testMalformedJSONLRows() throws {
        let cases: [(String, String, String)] = [
            ("unterminated.jsonl", good + "\n" + #"{"question": "q", "answer": "a}"#, ":2:29: malformed JSON: unterminated string"),
            ("garbage.jsonl", good + " x\n", ":1:34: malformed JSON: unexpected text after the JSON value"),
            ("bare.jsonl", good + "\n42\n", ":2: expected a JSON object per line, found a number"),
            ("array.jsonl", good + "\n[1, 2]\n", ":2: expected a JSON object per line, found an array"),
            ("surrogate.jsonl", good + "\n" + #"{"question": "\ud800", "answer": "a"}"#, ":2:15: malformed JSON: lone surrogate \\ud800"),
            ("lowsurrogate.jsonl", good + "\n" + #"{"question": "x\udc00", "answer": "a"}"#, ":2:16: malformed JSON: lone surrogate \\udc00"),
            ("badescape.jsonl", good + "\n" + #"{"question": "\q", "answer": "a"}"#, ":2:15: malformed JSON: invalid escape '\\q'"),
            ("number.jsonl", good + "\n" + #"{"question": 7, "answer": "a"}"#, ":2: field \"question\" is a number, expected a string"),
            ("null.jsonl", good + "\n" + #"{"question": "q", "answer": null}"#, ":2: field \"answer\" is null, expected a string"),
            ("list.jsonl", good + "\n" + #"{"question": ["q"], "answer": "a"}"#, ":2: field \"question\" is an array, expected a string"),
            ("missing.jsonl", good + "\n" + #"{"question": "q"}"#, ":2: missing field \"answer\" (the row has: question)"),
        ]
        for (name, text, message) in cases {
            let p = write(name, text)
            try expectBuildFailure(p, contains: p + message)
        }
        // Invalid UTF-8 bytes inside a string.
        let bad = write("utf8.jsonl", Array((good + "\n{\"question\": \"").utf8) + [0xC3, 0x28] + Array("\", \"answer\": \"a\"}\n".utf8))
        try expectBuildFailure(bad, contains: bad + ":2:15: malformed JSON: invalid UTF-8 byte 0xC3 inside a string")
        // An empty file.
        let empty = write("empty.jsonl", "")
        try expectBuildFailure(empty, contains: "no JSON object rows to build from")
    }

    func testTolerableQuirksBuild() throws {
        // BOM, CRLF, blank lines, no final newline, duplicate keys: all fine, blank lines counted.
        let p = write("quirks.jsonl", "\u{FEFF}" + good + "\r\n\r\n   \n" + #"{"question": "x", "answer": "b", "answer": "c"}"#)
        let out = dir.appendingPathComponent("ok").path
        let r = try finetok(["build", p, "--out", out, "--test-size", "0", "--template", "qa"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("blank lines  2 skipped"), r.stdout)
        XCTAssertTrue(r.stdout.contains("2 read → 2 train"), r.stdout)
    }

    func testSkipInvalidReportsLineAndReason() throws {
        let p = write("mixed.jsonl", [good, "oops", #"{"question": 1, "answer": "a"}"#, good].joined(separator: "\n"))
        let out = dir.appendingPathComponent("skip").path
        let r = try finetok(["build", p, "--out", out, "--skip-invalid", "--test-size", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("invalid      2 skipped"), r.stdout)
        XCTAssertTrue(r.stdout.contains("\(p):2: malformed JSON"), r.stdout)
        XCTAssertTrue(r.stdout.contains("\(p):3: field \"question\" is a number"), r.stdout)
    }

    func testBadVocabulariesExitOne() throws {
        let vdir = dir.appendingPathComponent("v")
        try FileManager.default.createDirectory(at: vdir, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: vdir.appendingPathComponent("vocab.json").path, contents: Data(#"{"a": 0, "b": 1"#.utf8)))
        XCTAssertTrue(FileManager.default.createFile(atPath: vdir.appendingPathComponent("merges.txt").path, contents: Data("a b\n".utf8)))
        let r = try finetok(["encode", "--vocab", vdir.path, "--text", "ab"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("vocab.json:1:16: malformed JSON"), r.stderr)
        let notTokenizer = write("notes.json", #"{"hello": "world"}"#)
        let n = try finetok(["encode", "--vocab", notTokenizer, "--text", "ab"])
        XCTAssertEqual(n.status, 1)
        XCTAssertTrue(n.stderr.contains("not a tokenizer.json"), n.stderr)
        let rank = write("x.tiktoken", "YQ== 0\n")
        let e = try finetok(["encode", "--vocab", rank, "--text", "ab"])
        XCTAssertTrue(e.stderr.contains("pass --encoding"), e.stderr)
    }

    func testArgumentErrorsExitTwo() throws {
        let p = write("in.jsonl", good)
        let file = write("afile", "x")
        let cases: [([String], String)] = [
            (["build", p, "--out", dir.appendingPathComponent("o").path, "--frobnicate"], "unknown option --frobnicate"),
            (["build", p, "--out"], "option --out needs a value"),
            (["build", p], "--out DIR is required"),
            (["build", p, "--out", dir.appendingPathComponent("o").path, "--format", "npy"], "--format npy writes 2-D arrays"),
            (["build", p, "--out", dir.appendingPathComponent("o").path, "--test-size", "1.5"], "--test-size must be at least 0 and below 1"),
            (["build", p, "--out", dir.appendingPathComponent("o").path, "--max-length", "0"], "--max-length must be positive"),
            (["build", p, "--out", dir.appendingPathComponent("o").path, "--truncation", "middle"], "--truncation must be one of left, right, drop"),
            (["build", p, "--out", file], "is a file"),
            (["build", p, "--out", dir.path], "is not empty"),
            (["lengths", p, "--top", "x"], "--top expects a whole number"),
            (["bench", "--threads", "0"], "--threads must be at least 1"),
            (["decode"], "nothing to decode"),
        ]
        for (args, message) in cases {
            let r = try finetok(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): expected \(message) in \(r.stderr)")
        }
    }

    /// An output folder that cannot be created (under /proc, unwritable even for root).
    func testUnwritableOutputFolder() throws {
        let p = write("in.jsonl", good)
        let r = try finetok(["build", p, "--out", "/proc/finetok-cannot-write/out"])
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertTrue(r.stderr.contains("cannot create the output folder"), r.stderr)
    }

    /// A write error mid-build (here a file-size limit, as a full disk would give) is an I/O
    /// error with exit code 3, and nothing is left in the output folder.
    func testWriteFailureLeavesNothing() throws {
        let rows = (0..<3000).map { #"{"question": "question \#($0) with some words", "answer": "answer \#($0) with some more words"}"# }
        let p = write("big.jsonl", rows.joined(separator: "\n"))
        let out = dir.appendingPathComponent("limited").path
        let binary = finetokBinary().path
        let r = try shell("ulimit -f 64; exec '\(binary)' build '\(p)' --out '\(out)' --quiet")
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertTrue(r.stderr.contains("write failed: File too large"), r.stderr)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? [], [])
    }

    /// A full disk (a 256 KB tmpfs) mid-build: exit 3, "the disk is full", nothing left behind.
    func testDiskFullLeavesNothing() throws {
        let mountPoint = dir.appendingPathComponent("small-disk").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try shell("mount -t tmpfs -o size=256k tmpfs '\(mountPoint)'")
        guard mounted.status == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (\(mounted.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); the file-size-limit test covers the write-error path")
        }
        defer { _ = try? shell("umount '\(mountPoint)'") }
        let rows = (0..<3000).map { #"{"question": "question \#($0) with some words", "answer": "answer \#($0) with some more words"}"# }
        let p = write("big.jsonl", rows.joined(separator: "\n"))
        let out = mountPoint + "/out"
        let r = try finetok(["build", p, "--out", out, "--quiet"])
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertTrue(r.stderr.contains("No space left on device (the disk is full)"), r.stderr)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? [], [])
    }

    /// SIGTERM during a build (the input is a pipe that never ends) removes the partial outputs.
    func testSignalLeavesNothing() throws {
        let fifo = dir.appendingPathComponent("rows.fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let out = dir.appendingPathComponent("interrupted").path
        let p = Process()
        p.executableURL = finetokBinary()
        p.arguments = ["build", fifo, "--template", "qa", "--out", out, "--quiet"]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let writer = FileHandle(forWritingAtPath: fifo)
        writer?.write(Data((good + "\n").utf8))
        // Wait until the build has made its temporary folder, then interrupt it.
        var waited = 0
        while waited < 100, ((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []).isEmpty {
            usleep(50_000)
            waited += 1
        }
        XCTAssertFalse(((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []).isEmpty, "the build never started")
        p.terminate()
        p.waitUntilExit()
        try? writer?.close()
        XCTAssertEqual(p.terminationStatus, 128 + SIGTERM)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? [], [], "partial output left")
        XCTAssertTrue(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains("no output was written"))
    }

    /// One very long line (a 100 MB document) streams through and is measured.
    func testHundredMegabyteLine() throws {
        let text = String(repeating: "All work and no play makes a dull line. ", count: 2_500_000)
        var row = Array(#"{"text": ""#.utf8)
        row += Array(text.utf8)
        row += Array("\"}\n".utf8)
        XCTAssertGreaterThan(row.count, 100_000_000)
        let p = write("long.jsonl", row)
        let r = try finetok(["lengths", p, "--json", "--no-eos", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\"examples\": 1,"), r.stdout)
        // 10 tokens per repetition and the final space (counted with HF tokenizers on a few repetitions).
        XCTAssertTrue(r.stdout.contains("\"total_tokens\": 25000001,"), String(r.stdout.prefix(400)))
    }

    /// Ten million tiny rows: streamed, counted, nothing held per row but lengths.
    func testTenMillionTinyRows() throws {
        let p = dir.appendingPathComponent("tiny.jsonl").path
        XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: p))
        let chunk = Data(String(repeating: "{\"text\": \"a b\"}\n", count: 100_000).utf8)
        for _ in 0..<100 { handle.write(chunk) }
        try handle.close()
        let r = try finetok(["lengths", p, "--json", "--quiet", "--top", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\"examples\": 10000000,"), String(r.stdout.prefix(300)))
    }
}

/// Runs a shell command line.
func shell(_ command: String) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

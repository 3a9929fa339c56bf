// Every file finetok reads may be a pipe: a FIFO, /dev/stdin or the shell's <(...), read once as
// a stream; errors carry the operating system's reason.

import Foundation
import XCTest

final class PipeTests: XCTestCase {
    var dir: URL!
    var vocab = ""
    var input = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-pipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        vocab = try TinyVocabulary.write(in: dir)
        input = dir.appendingPathComponent("rows.jsonl").path
        try Data(exampleRows(60, seed: 3).utf8).write(to: URL(fileURLWithPath: input))
    }

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Runs a bash command line (for `<(...)`), with `$F` the finetok binary.
    func bash(_ script: String) throws -> Run {
        guard FileManager.default.isExecutableFile(atPath: "/bin/bash") else { throw XCTSkip("needs bash for <(...)") }
        return try shell("export F='\(finetokBinary().path)'; exec /bin/bash -c '\(script.replacingOccurrences(of: "'", with: "'\\''"))'")
    }

    func contents(_ p: String) -> Data? { FileManager.default.contents(atPath: p) }

    func testTemplateFileFromProcessSubstitutionAndStandardInput() throws {
        let template = "### Q:\\n{question}\\n### A:\\n{answer}"
        let file = path("template.txt")
        try Data("### Q:\n{question}\n### A:\n{answer}".utf8).write(to: URL(fileURLWithPath: file))
        let reference = try finetok(["build", input, "--vocab", vocab, "--template-file", file, "--out", path("ref"), "--quiet"])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let piped = try bash("$F build '\(input)' --vocab '\(vocab)' --template-file <(printf '\(template)') --out '\(path("piped"))' --quiet")
        XCTAssertEqual(piped.status, 0, piped.stderr)
        let stdin = try shell("printf '\(template)' | '\(finetokBinary().path)' build '\(input)' --vocab '\(vocab)' --template-file /dev/stdin --out '\(path("stdin"))' --quiet")
        XCTAssertEqual(stdin.status, 0, stdin.stderr)
        for out in ["piped", "stdin"] {
            for name in ["train.jsonl", "test.jsonl"] {
                XCTAssertNotNil(contents(path("ref/\(name)")))
                XCTAssertEqual(contents(path("\(out)/\(name)")), contents(path("ref/\(name)")), "\(out)/\(name)")
            }
        }
    }

    /// Rows from a pipe with the template detected from the first row: the pipe is read once
    /// (the detection's peek is replayed), so nothing is lost; an empty pipe first is skipped.
    func testBuildInputsFromPipes() throws {
        let reference = try finetok(["build", input, "--vocab", vocab, "--out", path("ref"), "--quiet"])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let stdin = try shell("cat '\(input)' | '\(finetokBinary().path)' build - --vocab '\(vocab)' --out '\(path("stdin"))'")
        XCTAssertEqual(stdin.status, 0, stdin.stderr)
        XCTAssertTrue(stdin.stderr.contains("template: qa (detected from the fields of -:1)"), stdin.stderr)
        let substituted = try bash("$F build <(true) <(cat '\(input)') --vocab '\(vocab)' --out '\(path("subst"))' --quiet")
        XCTAssertEqual(substituted.status, 0, substituted.stderr)
        for out in ["stdin", "subst"] {
            for name in ["train.jsonl", "test.jsonl"] {
                XCTAssertNotNil(contents(path("ref/\(name)")))
                XCTAssertEqual(contents(path("\(out)/\(name)")), contents(path("ref/\(name)")), "\(out)/\(name)")
            }
            // The input's checksum is the file's.
            let manifest = String(decoding: contents(path("\(out)/manifest.json")) ?? Data(), as: UTF8.self)
            let want = String(decoding: contents(path("ref/manifest.json")) ?? Data(), as: UTF8.self)
            let sha = want.components(separatedBy: "\"sha256\": \"").dropFirst().first?.prefix(64) ?? "?"
            XCTAssertTrue(manifest.contains(String(sha)), manifest)
        }
    }

    /// vocab.json and merges.txt as FIFOs: loaded, and hashed into the manifest from the bytes
    /// read (a FIFO cannot be opened twice).
    /// A pipe has no extension: JSONL or a text corpus is told by its first line, and a text
    /// corpus read from a pipe loses nothing to that peek (build and lengths alike).
    func testPipesAreSniffedAsJSONLOrText() throws {
        let docs = path("docs.txt")
        try Data("First document, one line.\n\nSecond one\nwith two lines.\n\n\nThird.\n".utf8).write(to: URL(fileURLWithPath: docs))
        let fromFile = try finetok(["lengths", docs, "--vocab", vocab, "--json"])
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        let fromPipe = try shell("cat '\(docs)' | '\(finetokBinary().path)' lengths - --vocab '\(vocab)' --json")
        XCTAssertEqual(fromPipe.status, 0, fromPipe.stderr)
        XCTAssertEqual(fromPipe.stdout.replacingOccurrences(of: "\"-\"", with: "\"\(docs)\""), fromFile.stdout)
        let rows = try shell("cat '\(input)' | '\(finetokBinary().path)' lengths - --vocab '\(vocab)'")
        XCTAssertEqual(rows.status, 0, rows.stderr)
        XCTAssertTrue(rows.stdout.contains("template qa (detected)"), rows.stdout)
        let built = try finetok(["build", docs, "--vocab", vocab, "--test-size", "0", "--out", path("docs-file"), "--quiet"])
        XCTAssertEqual(built.status, 0, built.stderr)
        let piped = try shell("cat '\(docs)' | '\(finetokBinary().path)' build - --vocab '\(vocab)' --test-size 0 --out '\(path("docs-pipe"))' --quiet")
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertNotNil(contents(path("docs-file/train.jsonl")))
        XCTAssertEqual(contents(path("docs-pipe/train.jsonl")), contents(path("docs-file/train.jsonl")))
    }

    func testVocabularyFilesAsFIFOs() throws {
        let fifos = path("fifo-vocab")
        try FileManager.default.createDirectory(atPath: fifos, withIntermediateDirectories: true)
        for name in ["vocab.json", "merges.txt"] { XCTAssertEqual(mkfifo("\(fifos)/\(name)", 0o600), 0) }
        let reference = try finetok(["build", input, "--vocab", vocab, "--out", path("ref"), "--quiet"])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        defer {
            // Release a writer still waiting for a reader (if the build failed early).
            for name in ["vocab.json", "merges.txt"] {
                let fd = open("\(fifos)/\(name)", O_RDONLY | O_NONBLOCK)
                if fd >= 0 { close(fd) }
            }
        }
        let r = try shell("(cat '\(vocab)/vocab.json' > '\(fifos)/vocab.json' 2>/dev/null &) >/dev/null; (cat '\(vocab)/merges.txt' > '\(fifos)/merges.txt' 2>/dev/null &) >/dev/null; exec '\(finetokBinary().path)' build '\(input)' --vocab '\(fifos)' --out '\(path("fifo"))' --quiet")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(contents(path("fifo/train.jsonl")), contents(path("ref/train.jsonl")))
        func hashes(_ manifest: String) -> [String] {
            let text = String(decoding: contents(manifest) ?? Data(), as: UTF8.self)
            return text.components(separatedBy: "\"sha256\": \"").dropFirst().map { String($0.prefix(64)) }
        }
        XCTAssertEqual(hashes(path("fifo/manifest.json")), hashes(path("ref/manifest.json")))
        XCTAssertEqual(hashes(path("ref/manifest.json")).count, 3)  // the input, vocab.json, merges.txt
    }

    func testReadErrorsCarryTheSystemReason() throws {
        // A path through a regular file: "Not a directory".
        XCTAssertTrue(FileManager.default.createFile(atPath: path("plain"), contents: Data("x".utf8)))
        let throughFile = path("plain")
        let cases: [([String], String)] = [
            (["build", path("missing.jsonl"), "--out", path("o1")], "\(path("missing.jsonl")): cannot read: No such file or directory"),
            (["build", dir.path, "--out", path("o2")], "\(dir.path): cannot read: it is a folder; give a file"),
            (["build", "\(throughFile)/rows.jsonl", "--out", path("o3")], "\(throughFile)/rows.jsonl: cannot read: Not a directory"),
            (["build", input, "--template-file", path("missing.txt"), "--out", path("o4")], "\(path("missing.txt")): cannot read: No such file or directory"),
            (["build", input, "--template-file", "\(throughFile)/t.txt", "--out", path("o5")], "\(throughFile)/t.txt: cannot read: Not a directory"),
            (["encode", "\(throughFile)/x.txt"], "\(throughFile)/x.txt: cannot read: Not a directory"),
        ]
        for (args, message) in cases {
            let r = try finetok(args + (args[0] == "build" ? ["--vocab", vocab] : []))
            XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): expected \(message) in \(r.stderr)")
        }
        // An endless stream as a template (the system's zero device) is refused at a bound, not
        // read forever.
        let endless = try finetok(["build", input, "--vocab", vocab, "--template-file", "/dev/zero", "--out", path("o6")])
        XCTAssertEqual(endless.status, 1, endless.stderr)
        XCTAssertTrue(endless.stderr.contains("/dev/zero: cannot read: it is larger than 16 MiB"), endless.stderr)
    }

    func testEncodeJSONLFromStandardInput() throws {
        let rows = "{\"text\": \"Hello there\", \"q\": \"Hi\"}\n\n{\"text\": \"\", \"q\": \"the other\"}\n"
        let file = path("docs.jsonl")
        try Data(rows.utf8).write(to: URL(fileURLWithPath: file))
        let encode = ["encode", "--vocab", vocab]
        let fromFile = try finetok(encode + [file])
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        XCTAssertEqual(fromFile.stdout.split(separator: "\n").count, 2)
        let jsonl = try finetok(encode + ["--jsonl", "-"], stdin: rows)
        XCTAssertEqual(jsonl.status, 0, jsonl.stderr)
        XCTAssertEqual(jsonl.stdout, fromFile.stdout)
        let field = try finetok(encode + ["--field", "q", "-"], stdin: rows)
        XCTAssertEqual(field.stdout, try finetok(encode + ["--field", "q", file]).stdout)
        // Tiny vocabulary: ids are byte values; "the" → t·he (h e is merged, rank 1); " other" →
        // Ġ·o·t·he·r (h e wins over e r, and Ġ t needs Ġ right before t).
        XCTAssertEqual(field.stdout, "[72, 105]\n[116, 257, 32, 111, 116, 257, 114]\n")
        let bad = try finetok(encode + ["--jsonl", "-"], stdin: "{\"text\": \"a\"}\nnot json\n")
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("-:2:1: malformed JSON"), bad.stderr)
        // Without --jsonl, standard input is one text.
        XCTAssertEqual(try finetok(encode + ["-"], stdin: "Hi").stdout, "[72, 105]\n")
        let conflict = try finetok(["encode", "--jsonl", "--text", "x"])
        XCTAssertEqual(conflict.status, 2)
    }
}

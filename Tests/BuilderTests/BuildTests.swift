// End to end through `Build.run`: golden outputs, the course, formats, determinism, errors.

import Foundation
import XCTest
@testable import Builder
import Tokenizer

final class BuildTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = temporaryFolder("finetok-build") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func read(_ path: String) -> String { String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }

    /// Golden: an HF tokenizers + datasets reference build (tools/reference_build.py), byte for byte.
    func testMatchesHFReferenceBuild() throws {
        var o = BuildOptions()
        o.template = .preset(.instructionResponse)
        o.encoding.maxLength = 48
        o.encoding.truncation = .right
        o.padding = .longest
        o.testSize = 0.2
        o.seed = 3
        let out = dir.appendingPathComponent("out").path
        let report = try Build.run(inputs: [builderFixtures.appendingPathComponent("mini_piqa.jsonl").path], tokenizer: Loaded.gpt2,
                                   options: o, outputDirectory: out)
        XCTAssertEqual(report.trainRows, 24)
        XCTAssertEqual(report.testRows, 6)
        for split in ["train", "test"] {
            XCTAssertEqual(read("\(out)/\(split).jsonl"), read(builderFixtures.appendingPathComponent("mini_piqa_expected_\(split).jsonl").path), split)
        }
    }

    /// The course: finetok reproduces its HF pipeline row for row, and its 1260/140 split.
    func testReproducesTheCourse() throws {
        let template = try Template("### Question:\n{question}\n\n### Answer:{answer}")
        var o = BuildOptions()
        o.template = .custom(template, name: "course")
        o.encoding.trainOnPrompt = true
        o.appendEOS = false
        o.encoding.maxLength = 2048
        o.encoding.truncation = .left
        o.testSize = 0
        let lamini = packageRoot.appendingPathComponent("examples/lamini_docs.jsonl").path
        let out = dir.appendingPathComponent("course").path
        _ = try Build.run(inputs: [lamini], tokenizer: Loaded.pythia, options: o, outputDirectory: out)
        let got = read("\(out)/train.jsonl").split(separator: "\n")
        let want = read(builderFixtures.appendingPathComponent("lamini_docs_pythia_course.jsonl").path).split(separator: "\n")
        XCTAssertEqual(got.count, 1400)
        XCTAssertEqual(want.count, 1400)
        for (k, (g, w)) in zip(got, want).enumerated() {
            let gi = try JSON.parse(String(g))["input_ids"], wi = try JSON.parse(String(w))["input_ids"]
            XCTAssertEqual(gi, wi, "row \(k + 1)")
        }
        var split = BuildOptions()
        split.template = .preset(.qa)
        let report = try Build.run(inputs: [lamini], tokenizer: Loaded.pythia, options: split, outputDirectory: dir.appendingPathComponent("split").path)
        XCTAssertEqual(report.trainRows, 1260)
        XCTAssertEqual(report.testRows, 140)
        XCTAssertEqual(report.templateName, "qa")
    }

    /// The course with Phi-3: transformers' AutoTokenizer on the model folder + the course's recipe
    /// (tools/reference_build.py --course), BOS included, row for row on 500 rows.
    func testReproducesTheCourseWithPhi3() throws {
        let lamini = packageRoot.appendingPathComponent("examples/lamini_docs.jsonl").path
        let lines = read(lamini).split(separator: "\n", omittingEmptySubsequences: false)
        let subset = input(lines.prefix(500).joined(separator: "\n") + "\n", "lamini500.jsonl")
        var o = BuildOptions()
        o.template = .custom(try Template("### Question:\n{question}\n\n### Answer:{answer}"), name: "course")
        o.encoding.joint = true            // the course encodes the whole text at once
        o.encoding.trainOnPrompt = true
        o.appendEOS = false
        o.encoding.maxLength = 2048
        o.testSize = 0
        let out = dir.appendingPathComponent("phi3").path
        let report = try Build.run(inputs: [subset], tokenizer: Loaded.phi3, options: o, outputDirectory: out)
        XCTAssertEqual(report.bosIds, [1])
        let got = read("\(out)/train.jsonl").split(separator: "\n")
        let want = read(builderFixtures.appendingPathComponent("lamini_docs_phi3_course.jsonl").path).split(separator: "\n")
        XCTAssertEqual(got.count, 500)
        XCTAssertEqual(want.count, 500)
        for (k, (g, w)) in zip(got, want).enumerated() {
            let row = try JSON.parse(String(g))
            XCTAssertEqual(row["input_ids"], try JSON.parse(String(w))["input_ids"], "row \(k + 1)")
            XCTAssertEqual(row["labels"], row["input_ids"], "row \(k + 1)")
        }
    }

    /// BOS goes once before the prompt, is masked with it, and survives left truncation (as
    /// transformers keeps special tokens); --no-bos leaves it out.
    func testBOSBeforeEachExample() throws {
        let path = input(#"{"question": "Why?", "answer": "Because the sky is blue and the sea is too."}"# + "\n")
        var o = BuildOptions()
        o.template = .preset(.qa)
        o.testSize = 0
        let plain = Loaded.phi3.encode("### Question:\nWhy?\n\n### Answer:\n")
        let answer = Loaded.phi3.encode("Because the sky is blue and the sea is too.")
        func row(_ o: BuildOptions, _ name: String) throws -> JSONValue {
            _ = try Build.run(inputs: [path], tokenizer: Loaded.phi3, options: o, outputDirectory: dir.appendingPathComponent(name).path)
            return try JSON.parse(read(dir.appendingPathComponent("\(name)/train.jsonl").path).trimmingCharacters(in: .newlines))
        }
        func ints(_ v: JSONValue?) -> [Int] { v?.arrayValue?.compactMap(\.intValue) ?? [] }
        var r = try row(o, "bos")
        XCTAssertEqual(ints(r["input_ids"]), [1] + plain.map(Int.init) + answer.map(Int.init) + [32000])
        XCTAssertEqual(ints(r["labels"]).prefix(1 + plain.count), ArraySlice(repeating: -100, count: 1 + plain.count))
        o.encoding.maxLength = 6
        r = try row(o, "cut")
        XCTAssertEqual(ints(r["input_ids"]), [1] + (answer + [32000]).suffix(5).map(Int.init))
        XCTAssertEqual(ints(r["labels"]), [-100] + (answer + [32000]).suffix(5).map(Int.init))
        o.addBOS = false
        o.encoding.maxLength = nil
        r = try row(o, "nobos")
        XCTAssertEqual(ints(r["input_ids"]), plain.map(Int.init) + answer.map(Int.init) + [32000])
    }

    func input(_ text: String, _ name: String = "in.jsonl") -> String { writeFile(dir, name, text) }

    func testNpyAndSafetensorsHeaders() throws {
        let path = input((0..<7).map { #"{"prompt": "p\#($0) ", "completion": "\#(String(repeating: "word ", count: $0 + 1))"}"# }.joined(separator: "\n"))
        var o = BuildOptions()
        o.padding = .longest
        o.padToMultipleOf = 8
        o.formats = [.npy, .safetensors]
        o.dtype = .int64
        o.testSize = 0.3
        let out = dir.appendingPathComponent("arrays").path
        let report = try Build.run(inputs: [path], tokenizer: Loaded.gpt2, options: o, outputDirectory: out)
        XCTAssertEqual(report.templateName, "prompt-completion")
        let width = try XCTUnwrap(report.width)
        XCTAssertEqual(width % 8, 0)
        // .npy: magic, version 1.0, header padded so data starts at a multiple of 64.
        let npy = [UInt8](FileManager.default.contents(atPath: "\(out)/train_labels.npy") ?? Data())
        XCTAssertEqual(Array(npy[0..<8]), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(npy[8]) | Int(npy[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        let header = String(decoding: npy[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.contains("'descr': '<i8'"), header)
        XCTAssertTrue(header.contains("'shape': (\(report.trainRows), \(width))"), header)
        XCTAssertEqual(npy.count, 10 + headerLength + report.trainRows * width * 8)
        // .safetensors: u64 header length, JSON header with offsets covering the data exactly.
        let st = [UInt8](FileManager.default.contents(atPath: "\(out)/test.safetensors") ?? Data())
        var n = 0
        for i in 0..<8 { n |= Int(st[i]) << (8 * i) }
        XCTAssertEqual((8 + n) % 8, 0)
        let h = try JSON.parse(Array(st[8..<(8 + n)]))
        let size = report.testRows * width * 8
        XCTAssertEqual(h["input_ids"]?["dtype"], .string("I64"))
        XCTAssertEqual(h["labels"]?["data_offsets"], .array([.number(Double(2 * size), isInteger: true), .number(Double(3 * size), isInteger: true)]))
        XCTAssertEqual(st.count, 8 + n + 3 * size)
        // The first test row's labels, read back from the tensor bytes, match the JSONL-equivalent fill.
        XCTAssertNotNil(h["__metadata__"]?["format"])
    }

    func testOutputIsIdenticalForAnyThreadCount() throws {
        let lamini = packageRoot.appendingPathComponent("examples/lamini_docs.jsonl").path
        var outputs: [String] = []
        for threads in [1, 3] {
            var o = BuildOptions()
            o.threads = threads
            o.batchSize = 100
            o.encoding.maxLength = 64
            o.padding = .longest
            o.formats = [.jsonl, .npy, .safetensors]
            let out = dir.appendingPathComponent("t\(threads)").path
            _ = try Build.run(inputs: [lamini], tokenizer: Loaded.pythia, options: o, outputDirectory: out)
            outputs.append(out)
        }
        for name in ["train.jsonl", "test.jsonl", "train_labels.npy", "test.safetensors", "manifest.json"] {
            XCTAssertEqual(FileManager.default.contents(atPath: "\(outputs[0])/\(name)"), FileManager.default.contents(atPath: "\(outputs[1])/\(name)"), name)
        }
    }

    /// Builds in input order (`--test-size 0`) write their rows during pass 1 (DirectOutput):
    /// every file, manifest included, is byte for byte what the spill file and pass 2 write,
    /// with masked prompts, truncation, both padding sides, JSONL beside megatron, many batches
    /// and 1 or 3 threads.
    func testRowsWrittenDuringPass1EqualTheSpillPath() throws {
        let lamini = packageRoot.appendingPathComponent("examples/lamini_docs.jsonl").path
        let lines = read(lamini).split(separator: "\n")
        let rows = input(lines.prefix(300).joined(separator: "\n") + "\n", "lamini300.jsonl")
        let text = input(try lines.prefix(200).map { line -> String in
            guard case .string(let answer)? = try JSON.parse(String(line))["answer"] else { return "" }
            return "{\"text\": \(jsonQuote(answer))}"
        }.joined(separator: "\n") + "\n", "text200.jsonl")
        typealias Case = (name: String, input: String, configure: (inout BuildOptions) -> Void)
        let cases: [Case] = [
            ("qa, no padding", rows, { _ in }),
            ("qa, max-length right", rows, { $0.padding = .maxLength; $0.encoding.maxLength = 48 }),
            ("qa, max-length left, multiple of 16", rows, {
                $0.padding = .maxLength; $0.encoding.maxLength = 40; $0.padToMultipleOf = 16; $0.paddingSide = .left
                $0.encoding.truncation = .left
            }),
            ("text, jsonl and megatron", text, { $0.formats = [.jsonl, .megatron]; $0.template = .preset(.text) }),
        ]
        var compared = 0
        for c in cases {
            for threads in [1, 3] {
                var o = BuildOptions()
                o.testSize = 0
                o.threads = threads
                o.batchSize = 7
                c.configure(&o)
                XCTAssertTrue(DirectOutput.applies(to: o), c.name)
                let direct = dir.appendingPathComponent("direct").path, spilled = dir.appendingPathComponent("spilled").path
                var spill = o
                spill.writeDuringPass1 = false
                XCTAssertFalse(DirectOutput.applies(to: spill))
                let a = try Build.run(inputs: [c.input], tokenizer: Loaded.pythia, options: o, outputDirectory: direct)
                let b = try Build.run(inputs: [c.input], tokenizer: Loaded.pythia, options: spill, outputDirectory: spilled)
                XCTAssertEqual(a.files, b.files, c.name)
                XCTAssertGreaterThan(a.trainRows, 100, c.name)
                for name in b.files {
                    let x = FileManager.default.contents(atPath: "\(direct)/\(name)"), y = FileManager.default.contents(atPath: "\(spilled)/\(name)")
                    XCTAssertNotNil(x, "\(c.name): \(name)")
                    XCTAssertEqual(x, y, "\(c.name), \(threads) threads: \(name)")
                    compared += 1
                }
                try FileManager.default.removeItem(atPath: direct)
                try FileManager.default.removeItem(atPath: spilled)
            }
        }
        XCTAssertEqual(compared, 2 * (2 + 2 + 2 + 4))
        // Not in pass 1: rows padded to the longest, a test split, packing, npy.
        for configure in [{ (o: inout BuildOptions) in o.padding = .longest }, { $0.testSize = 0.1 }, { $0.pack = 64 },
                          { $0.formats = [.jsonl, .npy]; $0.padding = .maxLength; $0.encoding.maxLength = 8 }] {
            var o = BuildOptions()
            o.testSize = 0
            configure(&o)
            XCTAssertFalse(DirectOutput.applies(to: o))
        }
    }

    func failure(_ inputs: [String], _ configure: (inout BuildOptions) -> Void = { _ in }, out: String? = nil) -> String {
        var o = BuildOptions()
        configure(&o)
        let target = out ?? dir.appendingPathComponent("fail-\(UUID().uuidString)").path
        do {
            _ = try Build.run(inputs: inputs, tokenizer: Loaded.gpt2, options: o, outputDirectory: target)
            return "no error"
        } catch {
            // No output file is left behind.
            let left = (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []
            XCTAssertEqual(left.filter { $0 != "keep.txt" }, [], "files left after a failed build")
            return "\(error)"
        }
    }

    func testBadRowsNameFileLineAndField() {
        let p = input(#"{"question": "a", "answer": "b"}"# + "\n\n" + #"{"question": "c"}"# + "\n")
        XCTAssertEqual(failure([p]), "\(p):3: missing field \"answer\" (the row has: question); use --template/--template-file to match your fields, or --skip-invalid")
        let q = input(#"{"question": "a", "answer": "b"}"# + "\n" + #"{"question": "c", "answer": 5}"#, "q.jsonl")
        XCTAssertEqual(failure([q]), "\(q):2: field \"answer\" is a number, expected a string")
        let r = input(#"{"question": "a", "answer": "b"}"# + "\n" + #"{"question": "c", "answer": "unterminated}"#, "r.jsonl")
        XCTAssertTrue(failure([r]).hasPrefix("\(r):2:29: malformed JSON: unterminated string"), failure([r]))
        let chat = input(#"{"messages": [{"role": "user", "content": "hi"}]}"#, "chat.jsonl")
        // Chat rows are detected; the vocabulary (gpt2) has no chat template to render them with.
        XCTAssertTrue(failure([chat]).contains("has no chat template: pass --chat-template"), failure([chat]))
        let empty = input("", "empty.jsonl")
        XCTAssertTrue(failure([empty]).contains("no JSON object rows"))
    }

    func testSkipInvalidReportsEachRow() throws {
        let p = input([#"{"question": "a", "answer": "b"}"#, "not json", #"{"question": 1, "answer": "x"}"#, #"{"question": "c", "answer": "d"}"#].joined(separator: "\n"))
        var o = BuildOptions()
        o.skipInvalid = true
        o.testSize = 0
        let report = try Build.run(inputs: [p], tokenizer: Loaded.gpt2, options: o, outputDirectory: dir.appendingPathComponent("skip").path)
        XCTAssertEqual(report.skippedCount, 2)
        XCTAssertEqual(report.skipped.map(\.line), [2, 3])
        XCTAssertEqual(report.trainRows, 2)
        let manifest = read(dir.appendingPathComponent("skip/manifest.json").path)
        XCTAssertTrue(manifest.contains("\"skipped_invalid\": 2"), manifest)
    }

    func testContradictionsAndOutputFolder() throws {
        let p = input(#"{"question": "a", "answer": "b"}"#)
        XCTAssertTrue(failure([p]) { $0.formats = [.npy] }.contains("--format npy writes 2-D arrays"))
        XCTAssertTrue(failure([p]) { $0.testSize = 1.5 }.contains("--test-size must be at least 0 and below 1"))
        XCTAssertTrue(failure([p]) { $0.encoding.maxLength = 0 }.contains("--max-length must be positive"))
        XCTAssertTrue(failure([p]) { $0.padding = .maxLength }.contains("--padding max-length needs --max-length"))
        let notEmpty = dir.appendingPathComponent("full")
        try FileManager.default.createDirectory(at: notEmpty, withIntermediateDirectories: true)
        writeFile(notEmpty, "keep.txt", "x")
        XCTAssertTrue(failure([p], out: notEmpty.path).contains("is not empty"))
        XCTAssertTrue(failure([p], out: p).contains("is a file"))
        // --overwrite replaces finetok's files and keeps the others.
        var o = BuildOptions()
        o.overwrite = true
        o.testSize = 0
        _ = try Build.run(inputs: [p], tokenizer: Loaded.gpt2, options: o, outputDirectory: notEmpty.path)
        let names = try FileManager.default.contentsOfDirectory(atPath: notEmpty.path).sorted()
        XCTAssertEqual(names, ["keep.txt", "manifest.json", "train.jsonl"])
    }

    func testInputQuirks() throws {
        // BOM, CRLF, blank lines, a last line without newline, duplicate keys (last wins).
        let text = "\u{FEFF}" + #"{"question": "a", "answer": "b"}"# + "\r\n\r\n" + #"{"question": "x", "question": "c", "answer": "d"}"#
        let p = input(text)
        var o = BuildOptions()
        o.testSize = 0
        o.appendEOS = false
        o.encoding.trainOnPrompt = true
        let out = dir.appendingPathComponent("quirks").path
        let report = try Build.run(inputs: [p], tokenizer: Loaded.gpt2, options: o, outputDirectory: out)
        XCTAssertEqual(report.blankLines, 1)
        XCTAssertEqual(report.trainRows, 2)
        let rows = read("\(out)/train.jsonl").split(separator: "\n")
        let second = try JSON.parse(String(rows[1]))["input_ids"]?.arrayValue?.compactMap { $0.intValue }.map(UInt32.init)
        XCTAssertEqual(second, Loaded.gpt2.encode("### Question:\nc\n\n### Answer:\nd"))
    }
}

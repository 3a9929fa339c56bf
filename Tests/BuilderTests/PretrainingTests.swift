// Pre-training outputs: Megatron `.bin/.idx` byte for byte against Megatron-Core's own
// IndexedDatasetBuilder, the flat token file against nanoGPT's, read back by our reader; text
// corpora cut into documents as Python's split("\n\n"), streamed and by shard.

import Foundation
import XCTest
@testable import Builder
import Tokenizer

final class PretrainingTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = temporaryFolder("finetok-pretraining") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    let fixtures = builderFixtures.appendingPathComponent("pretraining")
    static let cl100k = try! Tokenizer.load(vocabPath("cl100k_base"))

    func bytes(_ path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path) ?? Data()) }

    /// corpus.txt (blank-line documents) and docs.jsonl (text rows), gpt2 (uint16) and cl100k
    /// (int32), in input order and split 75/25: `.bin` and `.idx` equal what Megatron's builder
    /// wrote for the same documents; `.bin` equals nanoGPT's flat file (checked by the generator).
    func testMegatronAndTokenFilesEqualTheReferences() throws {
        var compared = 0
        for (vocab, tokenizer) in [("gpt2", Loaded.gpt2), ("cl100k_base", PretrainingTests.cl100k)] {
            for input in ["corpus.txt", "docs.jsonl"] {
                for (variant, testSize) in [("all", 0.0), ("split", 0.25)] {
                    var o = BuildOptions()
                    o.formats = [.megatron, .tokens]
                    o.testSize = testSize
                    o.seed = 7
                    let out = dir.appendingPathComponent("\(vocab)-\(input)-\(variant)").path
                    let report = try Build.run(inputs: [fixtures.appendingPathComponent(input).path], tokenizer: tokenizer,
                                               options: o, outputDirectory: out)
                    XCTAssertEqual(report.templateName, "text")
                    for split in testSize > 0 ? ["train", "test"] : ["train"] {
                        let prefix = fixtures.appendingPathComponent("\((input as NSString).deletingPathExtension)_\(vocab)_\(variant)_\(split)").path
                        XCTAssertEqual(bytes("\(out)/\(split).bin"), bytes(prefix + ".bin"), "\(vocab) \(input) \(variant) \(split)")
                        XCTAssertEqual(bytes("\(out)/\(split).idx"), bytes(prefix + ".idx"), "\(vocab) \(input) \(variant) \(split)")
                        let header = try JSON.parse(bytes("\(out)/\(split).bin.json"))
                        XCTAssertEqual(header["dtype"]?.stringValue, vocab == "gpt2" ? "uint16" : "uint32")
                        XCTAssertEqual(header["tokens"]?.intValue, bytes(prefix + ".bin").count / (vocab == "gpt2" ? 2 : 4))
                        XCTAssertEqual(header["eos_id"]?.intValue, Int(tokenizer.eosTokenId ?? 0))
                        compared += 1
                    }
                }
            }
        }
        XCTAssertEqual(compared, 12)
    }

    /// Our reader on Megatron's own files and on ours: the documents are the texts' ids + EOS.
    func testReaderReadsBackTheDocuments() throws {
        let docs = try Documents.load(path: fixtures.appendingPathComponent("corpus.txt").path, split: .blankLines)
        for (vocab, tokenizer) in [("gpt2", Loaded.gpt2), ("cl100k_base", PretrainingTests.cl100k)] {
            let prefix = fixtures.appendingPathComponent("corpus_\(vocab)_all_train").path
            let index = try MegatronIndex.read(prefix + ".idx")
            XCTAssertEqual(index.width, vocab == "gpt2" ? .uint16 : .int32)
            XCTAssertEqual(index.documentIndices, (0...docs.count).map(Int64.init))
            let bin = bytes(prefix + ".bin")
            for (k, (pointer, length)) in zip(index.sequencePointers, index.sequenceLengths).enumerated() {
                let size = index.width.bytes
                let ids = (0..<Int(length)).map { i -> UInt32 in
                    (0..<size).reduce(UInt32(0)) { $0 | UInt32(bin[Int(pointer) + i * size + $1]) << (8 * UInt32($1)) }
                }
                let text = String(decoding: docs.bytes[docs.ranges[k]], as: UTF8.self)
                XCTAssertEqual(ids, tokenizer.encode(text) + [tokenizer.eosTokenId ?? 0], "\(vocab) document \(k)")
            }
        }
    }

    func testIndexReaderRejectsDamagedFiles() throws {
        let good = bytes(fixtures.appendingPathComponent("docs_gpt2_all_train.idx").path)
        func error(_ b: [UInt8]) -> String {
            let p = dir.appendingPathComponent("bad.idx").path
            _ = FileManager.default.createFile(atPath: p, contents: Data(b))
            do { _ = try MegatronIndex.read(p); return "no error" } catch let e { return "\(e)" }
        }
        XCTAssertEqual(error(good), "no error")
        XCTAssertTrue(error(Array(good.dropLast(8))).contains("do not fill"))
        XCTAssertTrue(error([0x4E] + good.dropFirst()).contains("not MMIDIDX"))
        var version = good
        version[9] = 2
        XCTAssertTrue(error(version).contains("version is not 1"))
        var code = good
        code[17] = 6
        XCTAssertTrue(error(code).contains("dtype code 6"))
        var huge = good
        for k in 18..<26 { huge[k] = 0xFF }
        XCTAssertTrue(error(huge).contains("do not fill"))
        var pointer = good
        let sequences = Int(good[18]) | Int(good[19]) << 8
        pointer[34 + 4 * sequences + 8] ^= 1
        XCTAssertTrue(error(pointer).contains("running sum"))
    }

    /// Text rows and `.txt` documents of the same text give the same ids; megatron refuses a
    /// masking template.
    func testCorpusDocumentsAreTextRows() throws {
        let texts = ["First document.\nWith two lines.", "Second one: ünïcödé and 12345.", "\nThird, starting with a newline."]
        let corpus = writeFile(dir, "c.txt", texts.joined(separator: "\n\n"))
        let rows = writeFile(dir, "r.jsonl", texts.map { "{\"text\": \(jsonQuote($0))}" }.joined(separator: "\n"))
        var o = BuildOptions()
        o.formats = [.tokens]
        o.testSize = 0
        let a = dir.appendingPathComponent("a").path, b = dir.appendingPathComponent("b").path
        _ = try Build.run(inputs: [corpus], tokenizer: Loaded.gpt2, options: o, outputDirectory: a)
        _ = try Build.run(inputs: [rows], tokenizer: Loaded.gpt2, options: o, outputDirectory: b)
        XCTAssertEqual(bytes("\(a)/train.bin"), bytes("\(b)/train.bin"))
        let ids: [UInt32] = texts.flatMap { Loaded.gpt2.encode($0) + [50256] }
        XCTAssertEqual(bytes("\(a)/train.bin"), ids.flatMap { id -> [UInt8] in [UInt8(id & 0xFF), UInt8(id >> 8)] })

        o.template = .preset(.qa)
        o.formats = [.megatron]
        let qa = writeFile(dir, "qa.jsonl", #"{"question": "q", "answer": "a"}"#)
        XCTAssertThrowsError(try Build.run(inputs: [qa], tokenizer: Loaded.gpt2, options: o, outputDirectory: dir.appendingPathComponent("qa").path)) {
            XCTAssertTrue("\($0)".contains("stores token ids only"), "\($0)")
        }
        o.encoding.trainOnPrompt = true
        XCTAssertNoThrow(try Build.run(inputs: [qa], tokenizer: Loaded.gpt2, options: o, outputDirectory: dir.appendingPathComponent("qa2").path))
    }

    /// A random text of newline runs, CR, blank lines and long documents, over 4 MiB so the
    /// stream's block boundaries fall inside documents and separators.
    func randomCorpus(_ seed: UInt64, bytes count: Int) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        var text: [UInt8] = []
        let words: [[UInt8]] = ["alpha", "beta", "γάμμα", "d", " ", "\r", "\t"].map { Array($0.utf8) }
        while text.count < count {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: text += [UInt8](repeating: 0x0A, count: Int.random(in: 1...6, using: &rng))
            case 1: text += [0x0D, 0x0A, 0x0D, 0x0A]
            case 2: text += [UInt8](repeating: 0x61, count: Int.random(in: 1...3000, using: &rng))
            default: text += words[Int.random(in: 0..<words.count, using: &rng)]
            }
        }
        return text
    }

    func documents(_ path: String, _ split: DocumentSplit, range: Range<Int>? = nil, lineOffset: Int = 0) throws -> [(Int, [UInt8])] {
        var out: [(Int, [UInt8])] = []
        try Documents.forEachDocument(path: path, split: split, range: range) { line, doc in out.append((line + lineOffset, Array(doc))) }
        return out
    }

    /// The streamed split equals Python's split("\n\n") on the whole text (Documents.fromText),
    /// with each document's first line; and shards' parts, cut at document boundaries, add up to
    /// exactly the whole file's documents and line numbers, for every mode and shard count.
    func testStreamedAndShardedDocumentsEqualTheWholeSplit() throws {
        let text = randomCorpus(11, bytes: 5 << 20)
        let path = dir.appendingPathComponent("big.txt").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(text))
        let reference = Documents.fromText(text, split: .blankLines)
        let streamed = try documents(path, .blankLines)
        XCTAssertEqual(streamed.count, reference.count)
        XCTAssertTrue(zip(streamed, reference.ranges).allSatisfy { $0.1 == Array(text[$1]) })
        // First lines: 1 + the newlines before each document.
        var newlines = [Int](repeating: 0, count: text.count + 1)
        for (i, b) in text.enumerated() { newlines[i + 1] = newlines[i] + (b == 0x0A ? 1 : 0) }
        XCTAssertEqual(streamed.map(\.0), reference.ranges.map { newlines[$0.lowerBound] + 1 })

        let small = dir.appendingPathComponent("small.txt").path
        _ = FileManager.default.createFile(atPath: small, contents: Data(randomCorpus(12, bytes: 60_000)))
        for split in DocumentSplit.allCases {
            for (file, counts) in [(small, [2, 3, 7, 50]), (path, [2, 7])] where split != .whole || file == small {
                let whole = try documents(file, split)
                for n in counts {
                    var joined: [(Int, [UInt8])] = []
                    for k in 1...n {
                        let plan = try InputPlan(inputs: [file], shard: ShardSpec(index: k, count: n), documents: split)
                        for part in plan.parts {
                            joined += try documents(file, split, range: part.range, lineOffset: try part.line(1) - 1)
                        }
                    }
                    XCTAssertEqual(joined.count, whole.count, "\(split) \(n) shards")
                    XCTAssertTrue(zip(joined, whole).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }, "\(split) \(n) shards")
                }
            }
        }
    }
}

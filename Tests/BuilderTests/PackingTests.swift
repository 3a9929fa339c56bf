// --pack against TRL's pack_dataset: the packer on seeded datasets, and whole builds against
// TRL applied to an HF reference build (fixtures by tools/make_packing_fixtures.py).

import Foundation
import XCTest
@testable import Builder
import Tokenizer

final class PackingTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = temporaryFolder("finetok-packing") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    let fixtures = builderFixtures.appendingPathComponent("packing")

    func json(_ name: String) throws -> JSONValue {
        try JSON.parse([UInt8](try Data(contentsOf: fixtures.appendingPathComponent(name))))
    }

    func ints(_ v: JSONValue?) -> [Int] { v?.arrayValue?.compactMap(\.intValue) ?? [] }

    /// Every row TRL packs from seeded datasets (ties, empty examples, examples longer than N,
    /// three datasets.map batches, N = 1 and 3), for both strategies: ids, labels, positions,
    /// seq_lengths and row order.
    func testPackerMatchesTRL() throws {
        let cases = try XCTUnwrap(json("trl_cases.json")["cases"]?.arrayValue)
        XCTAssertEqual(cases.count, 10)
        var rowsCompared = 0
        for c in cases {
            let name = c["name"]?.stringValue ?? "?"
            let n = try XCTUnwrap(c["seq_length"]?.intValue)
            let strategy = try XCTUnwrap(c["strategy"]?.stringValue.flatMap(PackingStrategy.init(rawValue:)))
            let ids = (c["examples"]?["input_ids"]?.arrayValue ?? []).map { ints($0).map(UInt32.init) }
            let labels = (c["examples"]?["labels"]?.arrayValue ?? []).map { row -> LabelRanges in
                LabelRanges(ints(row).enumerated().filter { $0.element != -100 }.map { $0.offset..<($0.offset + 1) })
            }
            let packer = Packer(capacity: n, strategy: strategy)
            var got: [PackedRow] = []
            for b in Packer.batches(ids.count) {
                for segments in packer.pack(b, lengths: b.map { ids[$0].count }) {
                    var row = PackedRow()
                    row.fill(segments, example: { (ids[$0], labels[$0]) }, oneSequence: strategy == .wrapped)
                    got.append(row)
                }
            }
            let want = c["packed"]?.arrayValue ?? []
            XCTAssertEqual(got.count, want.count, name)
            for (k, (g, w)) in zip(got, want).enumerated() {
                XCTAssertEqual(g.arrays.inputIds.map(Int.init), ints(w["input_ids"]), "\(name) row \(k)")
                XCTAssertEqual(g.arrays.labels.map(Int.init), ints(w["labels"]), "\(name) row \(k)")
                XCTAssertEqual(g.positionIds.map(Int.init), ints(w["position_ids"]), "\(name) row \(k)")
                XCTAssertEqual(g.seqLengths, ints(w["seq_lengths"]), "\(name) row \(k)")
                XCTAssertEqual(g.arrays.attentionMask, [Int32](repeating: 1, count: g.arrays.inputIds.count), "\(name) row \(k)")
                XCTAssertLessThanOrEqual(g.arrays.inputIds.count, n)
                rowsCompared += 1
            }
        }
        XCTAssertEqual(rowsCompared, cases.reduce(0) { $0 + ($1["packed"]?.arrayValue?.count ?? 0) })
        XCTAssertGreaterThan(rowsCompared, 1700)
    }

    func testFreeSpaceTreeFindsTheSmallestFit() {
        var rng = SeededRandom(seed: 7)
        for capacity in [1, 2, 3, 5, 8, 13, 64, 100] {
            var tree = FreeSpaceTree(capacity)
            var present: Set<Int> = [capacity]
            tree.add(capacity)
            for _ in 0..<300 {
                let v = Int.random(in: 1...capacity, using: &rng)
                if v != capacity && Bool.random(using: &rng) { tree.remove(v); present.remove(v) } else { tree.add(v); present.insert(v) }
                let q = Int.random(in: 1...capacity, using: &rng)
                XCTAssertEqual(tree.smallest(atLeast: q), present.filter { $0 >= q }.min(), "capacity \(capacity), query \(q)")
            }
        }
    }

    func piqaOptions(_ strategy: PackingStrategy) -> BuildOptions {
        var o = BuildOptions()
        o.template = .preset(.instructionResponse)
        o.encoding.maxLength = 48
        o.encoding.truncation = .right
        o.testSize = 0.2
        o.seed = 3
        o.pack = 64
        o.packing = strategy
        return o
    }

    /// A packed build, byte for byte: TRL's pack_dataset(64) over an HF reference build of mini PIQA.
    func testPackedBuildMatchesTRLOnReferenceBuild() throws {
        for strategy in PackingStrategy.allCases {
            let out = dir.appendingPathComponent(strategy.rawValue).path
            let report = try Build.run(inputs: [builderFixtures.appendingPathComponent("mini_piqa.jsonl").path], tokenizer: Loaded.gpt2,
                                       options: piqaOptions(strategy), outputDirectory: out)
            for split in ["train", "test"] {
                let want = try Data(contentsOf: fixtures.appendingPathComponent("mini_piqa_\(strategy.rawValue)_64_\(split).jsonl"))
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(split).jsonl")), want, "\(strategy) \(split)")
            }
            XCTAssertEqual(report.packing.map(\.split), ["train", "test"])
            XCTAssertEqual(report.packing.map(\.examples), [24, 6])
        }
    }

    /// Two datasets.map batches (1,260 train examples) on the course data: every row's length and
    /// seq_lengths, and the SHA-256 of the whole file, as TRL packs the HF reference build (bfd;
    /// wrapped over several batches is in the seeded cases, and its fixture is kept for tools).
    func testPackedCourseDataMatchesTRL() throws {
        let expected = try json("lamini_pythia_512.json")
        let lamini = packageRoot.appendingPathComponent("examples/lamini_docs.jsonl").path
        for strategy in [PackingStrategy.bfd] {
            var o = BuildOptions()
            o.template = .preset(.qa)
            o.pack = 512
            o.packing = strategy
            let out = dir.appendingPathComponent("lamini-\(strategy.rawValue)").path
            let report = try Build.run(inputs: [lamini], tokenizer: Loaded.pythia, options: o, outputDirectory: out)
            for split in ["train", "test"] {
                let want = try XCTUnwrap(expected["\(strategy.rawValue)_\(split)"])
                let data = try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(split).jsonl"))
                let rows = try data.split(separator: UInt8(ascii: "\n")).map { try JSON.parse([UInt8]($0)) }
                XCTAssertEqual(rows.count, want["rows"]?.intValue, "\(strategy) \(split)")
                XCTAssertEqual(rows.map { $0["input_ids"]?.arrayValue?.count ?? -1 }, ints(want["row_lengths"]), "\(strategy) \(split)")
                XCTAssertEqual(rows.map { ints($0["seq_lengths"]) }, (want["seq_lengths"]?.arrayValue ?? []).map { ints($0) }, "\(strategy) \(split)")
                var sha = SHA256()
                sha.update([UInt8](data))
                XCTAssertEqual(sha.hexDigest(), want["sha256"]?.stringValue, "\(strategy) \(split)")
            }
            let train = try XCTUnwrap(report.packing.first)
            XCTAssertEqual(train.tokens, rowsTokens(out, "train"))
            XCTAssertEqual(train.efficiency, Double(train.tokens) / Double(train.rows * 512))
        }
    }

    func rowsTokens(_ out: String, _ split: String) -> Int {
        let text = String(decoding: FileManager.default.contents(atPath: "\(out)/\(split).jsonl") ?? Data(), as: UTF8.self)
        return text.split(separator: "\n").reduce(0) { $0 + ((try? JSON.parse(String($1)))?["input_ids"]?.arrayValue?.count ?? 0) }
    }

    /// npy and safetensors hold the JSONL rows padded to N, position_ids, and cu_seqlens.
    func testPackedArraysMatchTheRows() throws {
        var o = piqaOptions(.bfd)
        o.formats = [.jsonl, .npy, .safetensors]
        o.dtype = .int64
        let out = dir.appendingPathComponent("arrays").path
        let report = try Build.run(inputs: [builderFixtures.appendingPathComponent("mini_piqa.jsonl").path], tokenizer: Loaded.gpt2,
                                   options: o, outputDirectory: out)
        XCTAssertEqual(report.width, 64)
        let rows = String(decoding: FileManager.default.contents(atPath: "\(out)/train.jsonl") ?? Data(), as: UTF8.self)
            .split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
        let n = rows.count
        let ids = try npy("\(out)/train_input_ids.npy", shape: "(\(n), 64)")
        let mask = try npy("\(out)/train_attention_mask.npy", shape: "(\(n), 64)")
        let labels = try npy("\(out)/train_labels.npy", shape: "(\(n), 64)")
        let positions = try npy("\(out)/train_position_ids.npy", shape: "(\(n), 64)")
        var cu: [Int] = []
        for (r, row) in rows.enumerated() {
            let length = ints(row["input_ids"]).count
            let pad = 64 - length
            XCTAssertEqual(Array(ids[(64 * r)..<(64 * r + 64)]), ints(row["input_ids"]) + [Int](repeating: 50256, count: pad))
            XCTAssertEqual(Array(mask[(64 * r)..<(64 * r + 64)]), [Int](repeating: 1, count: length) + [Int](repeating: 0, count: pad))
            XCTAssertEqual(Array(labels[(64 * r)..<(64 * r + 64)]), ints(row["labels"]) + [Int](repeating: -100, count: pad))
            XCTAssertEqual(Array(positions[(64 * r)..<(64 * r + 64)]), ints(row["position_ids"]) + [Int](repeating: 0, count: pad))
            var at = 0
            cu.append(0)
            for l in ints(row["seq_lengths"]) { at += l; cu.append(at) }
        }
        XCTAssertEqual(try npy("\(out)/train_cu_seqlens.npy", shape: "(\(cu.count),)"), cu)
        // safetensors: the same five tensors.
        let st = [UInt8](FileManager.default.contents(atPath: "\(out)/train.safetensors") ?? Data())
        var h = 0
        for i in 0..<8 { h |= Int(st[i]) << (8 * i) }
        let header = try JSON.parse(Array(st[8..<(8 + h)]))
        for name in ["input_ids", "attention_mask", "labels", "position_ids"] {
            XCTAssertEqual(header[name]?["shape"], .array([.number(Double(n), isInteger: true), .number(64, isInteger: true)]), name)
        }
        let range = ints(header["cu_seqlens"]?["data_offsets"])
        XCTAssertEqual(ints64(Array(st[(8 + h + range[0])..<(8 + h + range[1])])), cu)
    }

    func ints64(_ bytes: [UInt8]) -> [Int] {
        stride(from: 0, to: bytes.count, by: 8).map { at in (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
    }

    /// The values of an int64 `.npy` file, checking its shape.
    func npy(_ path: String, shape: String) throws -> [Int] {
        let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.contains("'shape': \(shape)"), "\(path): \(header)")
        return ints64(Array(bytes[(10 + headerLength)...]))
    }

    func testPackingOptionErrors() {
        let p = writeFile(dir, "in.jsonl", #"{"question": "a", "answer": "b"}"#)
        func error(_ f: (inout BuildOptions) -> Void) -> String {
            var o = BuildOptions()
            f(&o)
            do { _ = try Build.run(inputs: [p], tokenizer: Loaded.gpt2, options: o, outputDirectory: dir.appendingPathComponent("x").path); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(error { $0.pack = 0 }.contains("--pack must be at least 1"))
        XCTAssertTrue(error { $0.pack = 8; $0.formats = [.megatron] }.contains("stores documents"))
        XCTAssertTrue(error { $0.pack = 8; $0.padding = .longest }.contains("--padding max-length"))
        XCTAssertTrue(error { $0.pack = 8; $0.paddingSide = .left }.contains("padded on the right"))
        XCTAssertEqual(error { $0.pack = 8; $0.formats = [.npy]; $0.testSize = 0 }, "no error")
    }
}

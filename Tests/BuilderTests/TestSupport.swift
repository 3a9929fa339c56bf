import Foundation
import XCTest
@testable import Builder
import Tokenizer

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let builderFixtures = packageRoot.appendingPathComponent("Tests/BuilderTests/Fixtures")

func vocabPath(_ name: String) -> String { packageRoot.appendingPathComponent("vocab/\(name)").path }

enum Loaded {
    static let gpt2 = try! Tokenizer.load(vocabPath("gpt2"))
    static let pythia = try! Tokenizer.load(vocabPath("pythia"))
    static let phi3 = try! Tokenizer.load(vocabPath("phi3"))
}

/// A fresh temporary folder, removed by the caller.
func temporaryFolder(_ tag: String = "finetok") -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("\(tag)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}

@discardableResult
func writeFile(_ dir: URL, _ name: String, _ text: String) -> String {
    let p = dir.appendingPathComponent(name).path
    XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: Data(text.utf8)))
    return p
}

/// Seeded SplitMix64, so random tests are reproducible (as TokenizerTests' own).
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Rows as the writers take them.
func chunk(_ rows: [(ids: [UInt32], labels: LabelRanges)]) -> RowChunk {
    let c = RowChunk()
    for r in rows { r.ids.withUnsafeBufferPointer { c.append(ids: $0, labels: r.labels) } }
    return c
}

extension TemplateChoice {
    /// A JSONL row rendered as `build` renders it: (prompt, completion), or the row's problem.
    func render(json: String) -> Result<(String, String), RowProblem> {
        guard let plan = fieldPlan else { preconditionFailure("render(json:) is for field templates") }
        let fields = plan.rowFields()
        let out = TextBuffer()
        return Array(json.utf8).withUnsafeBufferPointer { plan.render(line: $0, fields: fields, into: out) }.map { promptBytes in
            (String(decoding: out.buffer[..<promptBytes], as: UTF8.self), String(decoding: out.buffer[promptBytes...], as: UTF8.self))
        }
    }
}

import Foundation
@testable import Tokenizer

/// The repository root (tests read only files inside the repository).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let fixtures = packageRoot.appendingPathComponent("Tests/TokenizerTests/Fixtures")

func vocabPath(_ name: String) -> String { packageRoot.appendingPathComponent("vocab/\(name)").path }

/// Tokenizers are loaded once per test process.
enum Loaded {
    static let gpt2 = try! Tokenizer.load(vocabPath("gpt2"))
    static let pythia = try! Tokenizer.load(vocabPath("pythia"))
    static let dolma2 = try! Tokenizer.load(vocabPath("dolma2"))
    static let cl100k = try! Tokenizer.load(vocabPath("cl100k_base"))
    static let qwen2 = try! Tokenizer.load(vocabPath("qwen2/qwen.tiktoken"), options: LoadOptions(encoding: "qwen2"))
    static let o200kOnCl100k = try! Tokenizer.load(vocabPath("cl100k_base"), options: LoadOptions(pattern: .o200k))
}

struct FixtureRow {
    var line: Int
    var text: String
    var ids: [UInt32]
}

func readFixture(_ name: String) throws -> [FixtureRow] {
    let data = try Data(contentsOf: fixtures.appendingPathComponent(name))
    var rows: [FixtureRow] = []
    for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
        let v = try JSON.parse(String(line))
        guard let text = v["text"]?.stringValue, let ids = v["ids"]?.arrayValue else { continue }
        rows.append(FixtureRow(line: i + 1, text: text, ids: ids.compactMap { $0.intValue.map(UInt32.init) }))
    }
    return rows
}

/// Seeded SplitMix64, so random tests are reproducible.
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

/// Ids of `text` split by the scalar scanner of `pattern`, each piece encoded by the model with
/// no cache: the reference for the fast loop (EncodingContext+Split.swift).
func plainEncode(_ text: [UInt8], _ tokenizer: Tokenizer, _ pattern: SplitPattern, scratch: MergeScratch,
                 piece: (UnsafeBufferPointer<UInt8>) -> Void) -> [UInt32] {
    var plain: [UInt32] = []
    text.withUnsafeBufferPointer { p in
        let s = Scanner(p: p, end: p.count)
        let dst = UnsafeMutablePointer<UInt32>.allocate(capacity: p.count + 4)
        defer { dst.deallocate() }
        var i = 0
        while i < p.count {
            let e: Int
            switch pattern {
            case .gpt2: e = s.gpt2(i)
            case .cl100k: e = s.cl100k(i, maxDigits: 3)
            case .qwen2: e = s.cl100k(i, maxDigits: 1)
            case .o200k: e = s.o200k(i)
            }
            let c = tokenizer.model.encodePiece(p.baseAddress! + i, e - i, dst: dst, scratch: scratch)
            plain += UnsafeBufferPointer(start: dst, count: c)
            piece(UnsafeBufferPointer(start: p.baseAddress! + i, count: e - i))
            i = e
        }
    }
    return plain
}

func plainEncode(_ text: [UInt8], _ tokenizer: Tokenizer, _ pattern: SplitPattern, scratch: MergeScratch) -> [UInt32] {
    plainEncode(text, tokenizer, pattern, scratch: scratch) { _ in }
}

// The fast merge (BPEMerge.swift) against a textbook BPE on seeded random inputs.
//
// The reference knows nothing of pair tables, heaps or caches: it keeps a list of byte strings and
// repeatedly merges the leftmost adjacent pair of lowest rank, where the rank comes straight from
// the vocabulary files (merges.txt line order for GPT-2; the rank of the concatenated bytes for
// tiktoken files).

import Foundation
import XCTest
@testable import Tokenizer

/// Textbook BPE: `rank(a, b)` gives the merge rank of two adjacent parts, or nil.
func naiveMerge(_ bytes: [UInt8], rank: ([UInt8], [UInt8]) -> Int?) -> [[UInt8]] {
    var parts = bytes.map { [$0] }
    while parts.count > 1 {
        var best: (rank: Int, at: Int)?
        for i in 0..<(parts.count - 1) {
            if let r = rank(parts[i], parts[i + 1]), best == nil || r < best!.rank { best = (r, i) }
        }
        guard let (_, at) = best else { break }
        parts[at] += parts[at + 1]
        parts.remove(at: at + 1)
    }
    return parts
}

final class NaiveMergeTests: XCTestCase {
    /// merges.txt as (left, right) byte strings → line rank, read independently of the loader.
    static let gpt2Ranks: [[UInt8]: [[UInt8]: Int]] = {
        let text = try! String(contentsOfFile: vocabPath("gpt2/merges.txt"), encoding: .utf8)
        var ranks: [[UInt8]: [[UInt8]: Int]] = [:]
        var rank = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#version") {
            let parts = line.split(separator: " ")
            let a = ByteLevel.decode(String(parts[0]))!, b = ByteLevel.decode(String(parts[1]))!
            ranks[a, default: [:]][b] = rank
            rank += 1
        }
        return ranks
    }()

    /// cl100k_base.tiktoken as bytes → rank, read independently of the loader.
    static let cl100kRanks: [[UInt8]: Int] = {
        let text = try! String(contentsOfFile: vocabPath("cl100k_base/cl100k_base.tiktoken"), encoding: .utf8)
        var ranks: [[UInt8]: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            ranks[[UInt8](Data(base64Encoded: String(parts[0]))!)] = Int(parts[1])!
        }
        return ranks
    }()

    /// vocab.json as bytes → id, read with Foundation's JSON reader.
    static let gpt2Vocab: [[UInt8]: UInt32] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: vocabPath("gpt2/vocab.json")))
        let object = try! JSONSerialization.jsonObject(with: data) as! [String: Int]
        var v: [[UInt8]: UInt32] = [:]
        for (token, id) in object { v[ByteLevel.decode(token)!] = UInt32(id) }
        return v
    }()

    func gpt2Naive(_ bytes: [UInt8], _ t: Tokenizer) -> [UInt32] {
        naiveMerge(bytes) { a, b in NaiveMergeTests.gpt2Ranks[a]?[b] }.map { NaiveMergeTests.gpt2Vocab[$0]! }
    }

    func cl100kNaive(_ bytes: [UInt8]) -> [UInt32] {
        if let whole = NaiveMergeTests.cl100kRanks[bytes] { return [UInt32(whole)] }
        return naiveMerge(bytes) { a, b in NaiveMergeTests.cl100kRanks[a + b] }.map { UInt32(NaiveMergeTests.cl100kRanks[$0]!) }
    }

    func fast(_ t: Tokenizer, _ bytes: [UInt8]) -> [UInt32] {
        var out: [UInt32] = []
        let ctx = EncodingContext()
        bytes.withUnsafeBufferPointer { p in ctx.encodePiece(t.model, p.baseAddress!, p.count, into: &out) }
        return out
    }

    /// The merge alone (no whole-token shortcut, no cache).
    func mergeOnly(_ t: Tokenizer, _ bytes: [UInt8]) -> [UInt32] {
        var out: [UInt32] = []
        bytes.withUnsafeBufferPointer { p in t.model.merge(p.baseAddress!, p.count, into: &out, scratch: MergeScratch()) }
        return out
    }

    /// Random pieces: random bytes, letters, repeated characters; lengths on both sides of the
    /// short/long threshold, so the scan and the heap are both compared.
    func randomPieces(seed: UInt64, count: Int) -> [[UInt8]] {
        var rng = SeededRandom(seed: seed)
        var out: [[UInt8]] = []
        let alphabets: [[UInt8]] = [Array("etaoinshrdlu ".utf8), Array("ab".utf8), Array(0...255), Array("0123456789".utf8),
                                    Array("ééàü中文".utf8), Array("    \n\t".utf8)]
        for i in 0..<count {
            let alphabet = alphabets[i % alphabets.count]
            let n = [1, 2, 3, 5, 8, 13, 23, 24, 25, 40, 64, 100, 300][Int(rng.next() % 13)]
            out.append((0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
        }
        return out
    }

    func testFastMergeEqualsNaiveGPT2() {
        let t = Loaded.gpt2
        for (i, piece) in randomPieces(seed: 42, count: 600).enumerated() {
            XCTAssertEqual(fast(t, piece), gpt2Naive(piece, t), "piece \(i): \(piece)")
        }
    }

    func testFastMergeEqualsNaiveTiktoken() {
        let t = Loaded.cl100k
        for (i, piece) in randomPieces(seed: 7, count: 600).enumerated() {
            XCTAssertEqual(fast(t, piece), cl100kNaive(piece), "piece \(i): \(piece)")
            // The merge itself, without tiktoken's whole-piece lookup in front of it.
            let naive = naiveMerge(piece) { a, b in NaiveMergeTests.cl100kRanks[a + b] }.map { UInt32(NaiveMergeTests.cl100kRanks[$0]!) }
            XCTAssertEqual(mergeOnly(t, piece), naive, "merge of piece \(i)")
        }
    }

    /// The tiktoken loader keeps only the split of each token that a merge can make (the last
    /// merge of its own bytes, `tiktokenRules`), not every split into two tokens. Texts made of two
    /// or three random tokens, where other splits of the tokens inside would meet, still merge
    /// exactly as the textbook merge with every rank.
    func testTiktokenKeepsOnlyUsedSplitsExactly() {
        let t = Loaded.cl100k
        XCTAssertLessThan(t.model.pairs.count, 110_000, "cl100k's merge table holds \(t.model.pairs.count) rules")
        XCTAssertGreaterThan(t.model.pairs.count, 90_000)
        var rng = SeededRandom(seed: 99)
        let n = UInt64(t.model.tokens.count)
        for i in 0..<1500 {
            var piece: [UInt8] = []
            for _ in 0..<(2 + Int(rng.next() % 2)) {
                let id = Int(rng.next() % n)
                if t.model.tokens.present[id] { piece += t.model.tokens.tokenBytes(id) }
            }
            if piece.count < 2 { continue }
            let naive = naiveMerge(piece) { a, b in NaiveMergeTests.cl100kRanks[a + b] }.map { UInt32(NaiveMergeTests.cl100kRanks[$0]!) }
            XCTAssertEqual(mergeOnly(t, piece), naive, "text \(i): \(piece)")
        }
    }

    /// Every token of 2+ bytes that the shortcut emits whole really merges back to itself.
    func testSelfMergingShortcutIsExact() {
        let m = Loaded.gpt2.model
        var checked = 0
        for id in stride(from: 0, to: m.tokens.count, by: 7) where m.tokens.present[id] && m.tokens.range(id).count >= 2 {
            let bytes = m.tokens.tokenBytes(id)
            let naive = gpt2Naive(bytes, Loaded.gpt2)
            XCTAssertEqual(m.selfMerging[id], naive == [UInt32(id)], "token \(id)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 5000)
    }

    /// Whole texts: random Unicode, whitespace runs and repeated characters through the full
    /// pipeline, each pre-token checked against the naive merge.
    func testRandomTextsPipelineEqualsNaive() {
        var rng = SeededRandom(seed: 2024)
        let t = Loaded.cl100k
        for _ in 0..<200 {
            var scalars = String.UnicodeScalarView()
            let n = Int(rng.next() % 60) + 1
            for _ in 0..<n {
                let ranges: [ClosedRange<UInt32>] = [0x20...0x7E, 0xA0...0x24F, 0x300...0x36F, 0x391...0x3C9, 0x4E00...0x4E80, 0x1F600...0x1F640, 0x09...0x0D]
                let r = ranges[Int(rng.next() % UInt64(ranges.count))]
                if let u = Unicode.Scalar(r.lowerBound + UInt32(rng.next() % UInt64(r.count))) { scalars.append(u) }
            }
            let text = String(scalars)
            var expected: [UInt32] = []
            var bytes = Array(text.utf8)
            bytes.withUnsafeMutableBufferPointer { p in
                SplitPattern.cl100k.split(UnsafeBufferPointer(p), 0, p.count) { s, e in expected += cl100kNaive(Array(p[s..<e])) }
            }
            XCTAssertEqual(t.encode(text), expected, JSON.quoted(text))
            XCTAssertEqual(try t.decode(t.encode(text)), text)
        }
    }

    /// Long single-character runs are one pre-token; the heap path must agree with the naive
    /// merge and must not be quadratic (1 MB runs in well under a second when built -c release).
    func testLongRuns() throws {
        for ch in ["a", " ", "7", "é"] {
            let piece = Array(String(repeating: ch, count: 700).utf8)
            XCTAssertEqual(fast(Loaded.gpt2, piece), gpt2Naive(piece, Loaded.gpt2), "run of \(ch)")
            XCTAssertEqual(fast(Loaded.cl100k, piece), cl100kNaive(piece), "run of \(ch)")
        }
        let big = String(repeating: "a", count: 1_000_000)
        let ids = Loaded.gpt2.encode(big)
        XCTAssertEqual(try Loaded.gpt2.decode(ids), big)
    }
}

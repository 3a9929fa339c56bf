// The character-level and SentencePiece fast paths (pair tables, the cut before "▁", the piece
// cache, whole-piece lookups) against textbook merges over the whole text, on seeded random
// inputs. The textbooks read the vocabulary files on their own (Foundation's JSON reader; the
// pieces of the parsed tokenizer.model) and know nothing of ids, heaps or caches.

import Foundation
import XCTest
@testable import Tokenizer

/// HF BPE over characters as a textbook: one part per character (or its `<0xXX>` parts, or the
/// unknown token), then the lowest-ranked adjacent pair merges, leftmost first.
func naiveCharacterBPE(_ word: String, vocab: [String: Int], ranks: [String: [String: Int]]) -> [Int] {
    var parts: [String] = []
    for c in word.unicodeScalars {
        let s = String(c)
        if vocab[s] != nil { parts.append(s); continue }
        let bytes = Array(s.utf8).map { String(format: "<0x%02X>", $0) }
        if bytes.allSatisfy({ vocab[$0] != nil }) { parts += bytes; continue }
        if parts.last != "<unk>" { parts.append("<unk>") }   // fuse_unk
    }
    while parts.count > 1 {
        var best: (rank: Int, at: Int)?
        for i in 0..<(parts.count - 1) {
            if let r = ranks[parts[i]]?[parts[i + 1]], best == nil || r < best!.rank { best = (r, i) }
        }
        guard let (_, at) = best else { break }
        parts[at] += parts[at + 1]
        parts.remove(at: at + 1)
    }
    return parts.map { vocab[$0]! }
}

/// sentencepiece's BPE as a textbook: one part per character, repeatedly merge the adjacent pair
/// whose concatenation is a mergeable piece with the highest score (leftmost among equals); an
/// unknown character becomes its byte pieces or the unknown id (one per run).
/// The mergeable pieces by text, and the id of each byte piece.
func sentencePieceTables(_ model: SentencePieceModel) -> (pieces: [[UInt8]: Int], bytes: [UInt8: Int]) {
    var pieces: [[UInt8]: Int] = [:], bytes: [UInt8: Int] = [:]
    for (i, p) in model.pieces.enumerated() {
        if SentencePieceModel.isMatchable(p.type) { pieces[p.text] = i }
        if p.type == .byte, let b = SentencePieceModel.byteValue(p.text) { bytes[b] = i }
    }
    return (pieces, bytes)
}

func naiveSentencePiece(_ normalized: [UInt8], model: SentencePieceModel,
                        tables: (pieces: [[UInt8]: Int], bytes: [UInt8: Int])) -> [Int] {
    let pieces = tables.pieces
    var parts: [[UInt8]] = []
    var i = 0
    while i < normalized.count {
        let len = utf8SequenceLength(normalized[i])
        parts.append(Array(normalized[i..<(i + len)]))
        i += len
    }
    while parts.count > 1 {
        var best: (score: Float, at: Int)?
        for k in 0..<(parts.count - 1) {
            if let id = pieces[parts[k] + parts[k + 1]], best == nil || model.pieces[id].score > best!.score {
                best = (model.pieces[id].score, k)
            }
        }
        guard let (_, at) = best else { break }
        parts[at] += parts[at + 1]
        parts.remove(at: at + 1)
    }
    var ids: [Int] = []
    var previousUnknown = false
    for p in parts {
        if let id = pieces[p] { ids.append(id); previousUnknown = false; continue }
        if model.byteFallback {
            for b in p { ids.append(tables.bytes[b]!) }
        } else if !previousUnknown {
            ids.append(model.unkId)
        }
        previousUnknown = true
    }
    return ids
}

final class SentencePieceNaiveTests: XCTestCase {
    /// Characters for random texts: ASCII, spaces and ▁ itself, accents, CJK in and out of Llama's
    /// vocabulary (out → byte fallback), emoji, a control character.
    static let alphabet: [String] = ["a", "b", "e", "t", "h", "n", "s", "T", "H", "1", "2", ".", ",", "'", "-", "(",
                                     " ", " ", " ", "  ", "\n", "\t", "▁", "é", "e\u{301}", "ß", "中", "文", "𠀀", "龘", "🦙", "👍🏽", "\u{7}",
                                     "the", " the", "ing", "tion", " and", "Hello", " world", "xxxx"]

    static func randomTexts(seed: UInt64, count: Int, maxParts: Int) -> [String] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in
            (0..<Int.random(in: 1...maxParts, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
        }
    }

    /// Phi-3's tokenizer.json read with Foundation: vocab and merge ranks.
    static let phi3Tables: (vocab: [String: Int], ranks: [String: [String: Int]]) = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: vocabPath("phi3/tokenizer.json")))
        let root = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        let model = root["model"] as! [String: Any]
        let vocab = model["vocab"] as! [String: Int]
        var ranks: [String: [String: Int]] = [:]
        for (r, m) in (model["merges"] as! [[String]]).enumerated() where ranks[m[0]]?[m[1]] == nil {
            ranks[m[0], default: [:]][m[1]] = r
        }
        return (vocab, ranks)
    }()

    func testPhi3TokenizerJSONEqualsTextbookOnWholeText() {
        let (vocab, ranks) = SentencePieceNaiveTests.phi3Tables
        var checked = 0
        for text in SentencePieceNaiveTests.randomTexts(seed: 21, count: 300, maxParts: 40) {
            // Prepend("▁") + Replace(" ", "▁"); the whole text is one word.
            let normalized = "▁" + text.replacingOccurrences(of: " ", with: "▁")
            let want = naiveCharacterBPE(normalized, vocab: vocab, ranks: ranks).map(UInt32.init)
            XCTAssertEqual(SPM.phi3.encode(text), want, JSON.quoted(text))
            checked += 1
        }
        XCTAssertEqual(checked, 300)
    }

    func testSentencePieceFastPathEqualsTextbookAndReference() throws {
        let models: [(Tokenizer, SentencePieceModel)] = try ["phi3/tokenizer.model"].map { vocabPath($0) }
            .map { path in
                (try Tokenizer.load(path), try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))).withUnsafeBufferPointer { try SentencePieceModel.parse($0) })
            }
            + ["tiny_fallback", "tiny_unk", "tiny_trim"].map { name in
                let path = SPM.fixture("\(name).model")
                return (try Tokenizer.load(path), try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))).withUnsafeBufferPointer { try SentencePieceModel.parse($0) })
            }
        var checked = 0
        for (k, (tokenizer, proto)) in models.enumerated() {
            guard case .sentencePiece(let spm) = tokenizer.kind else { return XCTFail() }
            let userDefined = proto.pieces.contains { $0.type == .userDefined }
            let tables = sentencePieceTables(proto)
            for text in SentencePieceNaiveTests.randomTexts(seed: 40 + UInt64(k), count: 200, maxParts: 40) {
                var t = text
                let normalized = t.withUTF8 { tokenizer.normalizer.apply($0) ?? Array($0) }
                let reference = normalized.withUnsafeBufferPointer { SentencePieceReference.encode($0, spm, scratch: MergeScratch()) }
                var fast: [UInt32] = []
                normalized.withUnsafeBufferPointer { spm.encode($0.baseAddress!, $0.count, into: &fast, scratch: MergeScratch()) }
                // The whole pipeline: normalizer, cuts before ▁, piece cache, whole pieces.
                XCTAssertEqual(tokenizer.encode(text), reference, "\(k): \(JSON.quoted(text))")
                XCTAssertEqual(fast, reference, "\(k): \(JSON.quoted(text))")
                if !userDefined {
                    XCTAssertEqual(reference, naiveSentencePiece(normalized, model: proto, tables: tables).map(UInt32.init), "\(k): \(JSON.quoted(text))")
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, 800)
    }

    /// Words longer than the short-merge limit take the heap; a 100 KB run of one character and of
    /// unknown characters stay fast (no quadratic step) and equal the reference.
    func testLongRuns() throws {
        guard case .sentencePiece(let spm) = SPM.phi3Model.kind else { return XCTFail() }
        for unit in ["a", " ", "▁", "𠀀", "ab ", "\u{7}"] {
            let text = String(repeating: unit, count: 30_000 / unit.utf8.count)
            var t = text
            let normalized = t.withUTF8 { SPM.phi3Model.normalizer.apply($0) ?? Array($0) }
            let reference = normalized.withUnsafeBufferPointer { SentencePieceReference.encode($0, spm, scratch: MergeScratch()) }
            XCTAssertEqual(SPM.phi3Model.encode(text), reference, "run of \(JSON.quoted(unit))")
            // The tokenizer.json path gives the same ids for text without special tokens.
            XCTAssertEqual(SPM.phi3.encode(text), reference, "run of \(JSON.quoted(unit)) (tokenizer.json)")
        }
    }

    /// The cut before "▁" never changes the ids: the word encoded whole (no cut, no cache) equals
    /// the tokenizer's output.
    func testCutsDoNotChangeIds() {
        let model = SPM.phi3.model
        for text in SentencePieceNaiveTests.randomTexts(seed: 77, count: 200, maxParts: 60) {
            let normalized = Array(("▁" + text.replacingOccurrences(of: " ", with: "▁")).utf8)
            var whole: [UInt32] = []
            normalized.withUnsafeBufferPointer { model.encodeCharacters($0.baseAddress!, $0.count, into: &whole, scratch: MergeScratch()) }
            XCTAssertEqual(SPM.phi3.encode(text), whole, JSON.quoted(text))
        }
    }
}

// The piece caches (PieceCache.swift) and the staging buffer of the fast loop
// (EncodingContext+Split.swift) under load: more distinct pieces than the caches hold, so sets
// fill, promote and evict, and texts whose ids overflow the staging buffer many times, or whose
// single pieces are longer than it. The reference is the scalar scanner with the model's piece
// encoding and no cache (`plainEncode`). Also checks that the cache counters add up.

import XCTest
@testable import Tokenizer

final class PieceCacheTests: XCTestCase {
    /// A random word of 1–16 bytes: letters, sometimes a leading space, digits or punctuation,
    /// so that pieces land in both the hot (≤ 8 bytes) and the medium (9–16) caches.
    func randomWord(_ rng: inout SeededRandom) -> [UInt8] {
        let length = 1 + Int(rng.next() % 15)
        var w: [UInt8] = rng.next() % 3 == 0 ? [] : [0x20]
        switch rng.next() % 8 {
        case 0: for _ in 0..<length { w.append(0x30 + UInt8(rng.next() % 10)) }
        case 1: for _ in 0..<min(length, 4) { w.append(Array("!?.,;:-()".utf8)[Int(rng.next() % 9)]) }
        default: for _ in 0..<length { w.append(0x61 + UInt8(rng.next() % 26)) }
        }
        return w
    }

    /// Words drawn with a skew from 60,000 distinct ones (the texts hold ~13 k distinct pieces of
    /// ≤ 8 bytes and more of 9–16), so that some repeat often and most rarely, encoded in texts of
    /// about 4 KB with one context: every eviction and promotion path runs (both caches miss at
    /// least 1,000 times more than there are distinct pieces), and the ids stay those of no cache.
    func testCachesUnderEvictionGiveTheIdsOfNoCache() {
        for (tokenizer, pattern) in [(Loaded.gpt2, SplitPattern.gpt2), (Loaded.cl100k, .cl100k)] {
            var rng = SeededRandom(seed: 77)
            let words = (0..<60_000).map { _ in randomWord(&rng) }
            let ctx = EncodingContext(countsPieces: true)
            let scratch = MergeScratch()
            var pieces = 0
            var distinct = Set<[UInt8]>()
            var differ = 0
            for _ in 0..<150 {
                var text: [UInt8] = []
                while text.count < 4096 {
                    // Skewed: the square of a uniform draw favours the low indices.
                    let u = Double(rng.next() % 1_000_000) / 1_000_000
                    text += words[Int(u * u * Double(words.count))]
                }
                var fast: [UInt32] = []
                text.withUnsafeBufferPointer { p in
                    ctx.bind(to: tokenizer)
                    ctx.encodeSplit(p, pattern, tokenizer.model, into: &fast)
                }
                let plain = plainEncode(text, tokenizer, pattern, scratch: scratch) { piece in
                    pieces += 1
                    distinct.insert(Array(piece))
                }
                if fast != plain {
                    differ += 1
                    if differ <= 2 { XCTFail("\(pattern): \(String(decoding: text.prefix(200), as: UTF8.self))…") }
                }
            }
            XCTAssertEqual(differ, 0, "\(pattern)")
            let s = ctx.stats
            XCTAssertEqual(s.shortPieces + s.mediumPieces + s.longPieces, pieces, "\(pattern): every piece is counted once")
            // More misses than distinct pieces of each size: some piece was evicted and came back.
            XCTAssertGreaterThan(s.hotMisses, distinct.filter { $0.count <= 8 }.count + 1000, "\(pattern)")
            XCTAssertGreaterThan(s.mediumMisses, distinct.filter { $0.count > 8 && $0.count <= 16 }.count + 1000, "\(pattern)")
            XCTAssertLessThan(s.hotMisses, s.shortPieces)
            XCTAssertLessThan(s.mediumMisses, s.mediumPieces)
            XCTAssertLessThanOrEqual(s.secondLevelHits, s.secondLevelLookups)
        }
    }

    /// Indentation under GPT-2 (no tokens for runs of spaces): pieces of ≤ 8 bytes with 4–8 ids
    /// go to the hot level's side table. With more distinct ones (2,600) than its 1,024 entries,
    /// entries are replaced; the ids stay those of no cache, and after the first pass most such
    /// pieces are answered by the side table, not recomputed (the hot misses stay below them).
    func testPiecesWithManyIdsGiveTheIdsOfNoCache() {
        let tokenizer = Loaded.gpt2
        var rng = SeededRandom(seed: 91)
        // "\n" or a letter, then 3–7 spaces and a few marks: 4–8 bytes, mostly one id a byte.
        var pieces: [[UInt8]] = []
        for lead in Array("\nabcdefghijklmnopqrstuvwxyz".utf8) {
            for spaces in 3...7 {
                for _ in 0..<20 {
                    var w: [UInt8] = [lead] + [UInt8](repeating: 0x20, count: spaces)
                    if rng.next() % 2 == 0 { w.append(Array("([{<".utf8)[Int(rng.next() % 4)]) }
                    pieces.append(w)
                }
            }
        }
        let ctx = EncodingContext(countsPieces: true)
        let scratch = MergeScratch()
        var wideOccurrences = 0
        var differ = 0
        for _ in 0..<40 {
            var text: [UInt8] = []
            while text.count < 4096 { text += pieces[Int(rng.next() % UInt64(pieces.count))] + Array("x=1".utf8) }
            var fast: [UInt32] = []
            text.withUnsafeBufferPointer { p in
                ctx.bind(to: tokenizer)
                ctx.encodeSplit(p, .gpt2, tokenizer.model, into: &fast)
            }
            let plain = plainEncode(text, tokenizer, .gpt2, scratch: scratch) { piece in
                var ids: [UInt32] = []
                if let base = piece.baseAddress { tokenizer.model.merge(base, piece.count, into: &ids, scratch: scratch) }
                if piece.count <= 8 && ids.count >= 4 { wideOccurrences += 1 }
            }
            if fast != plain { differ += 1 }
        }
        XCTAssertEqual(differ, 0)
        XCTAssertGreaterThan(wideOccurrences, 10_000, "the texts hold pieces of 4–8 ids")
        XCTAssertGreaterThan(ctx.stats.wideHits, wideOccurrences / 2, "the side table answers most of them")
        XCTAssertLessThan(ctx.stats.wideHits, wideOccurrences, "and misses the pieces it has not seen or has replaced")
    }

    /// A second pass over a text of 300 distinct pieces, each a gpt2 token of a space and 1–14
    /// letters (so one id, which both caches store), misses nothing.
    func testSecondPassHitsEveryPiece() {
        let model = Loaded.gpt2.model
        var words: [[UInt8]] = []
        for id in 0..<model.tokens.count where model.tokens.present[id] {
            let r = model.tokens.range(id)
            let bytes = Array(UnsafeBufferPointer(start: model.tokens.bytes + r.lowerBound, count: r.count))
            if bytes.count >= 2, bytes.count <= 15, bytes[0] == 0x20, bytes.dropFirst().allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }),
               id % 7 == 0 {
                words.append(bytes)
            }
            if words.count == 300 { break }
        }
        XCTAssertEqual(words.count, 300)
        XCTAssertTrue(words.contains { $0.count > 8 }, "some pieces go to the medium cache")
        var rng = SeededRandom(seed: 5)
        var text: [UInt8] = []
        for _ in 0..<3000 { text += words[Int(rng.next() % 300)] }
        let ctx = EncodingContext(countsPieces: true)
        var first: [UInt32] = [], second: [UInt32] = []
        text.withUnsafeBufferPointer { p in
            ctx.bind(to: Loaded.gpt2)
            ctx.encodeSplit(p, .gpt2, model, into: &first)
        }
        let before = ctx.stats
        text.withUnsafeBufferPointer { p in ctx.encodeSplit(p, .gpt2, model, into: &second) }
        let after = ctx.stats
        XCTAssertEqual(first, second)
        XCTAssertEqual(first, plainEncode(text, Loaded.gpt2, .gpt2, scratch: MergeScratch()))
        XCTAssertGreaterThan(before.hotMisses, 0)
        XCTAssertGreaterThan(before.mediumMisses, 0)
        XCTAssertEqual(after.hotMisses, before.hotMisses)
        XCTAssertEqual(after.mediumMisses, before.mediumMisses)
        XCTAssertEqual(after.shortPieces + after.mediumPieces, 2 * (before.shortPieces + before.mediumPieces))
    }

    /// Texts whose ids fill the 4,096-word staging buffer many times over, and single pieces
    /// longer than it (a run of one letter, of digits, a long punctuation run), at every
    /// position relative to a flush.
    func testStagingBufferFlushesAndGrows() {
        var rng = SeededRandom(seed: 9)
        let ctx = EncodingContext(countsPieces: true)
        let scratch = MergeScratch()
        for round in 0..<6 {
            var text: [UInt8] = []
            for _ in 0..<(2000 + round * 1500) { text += randomWord(&rng) }
            let long: [UInt8]
            switch round % 3 {
            case 0: long = [UInt8](repeating: 0x61, count: 30_000 + round * 7)
            case 1: long = (0..<20_000).map { _ in 0x30 + UInt8(rng.next() % 10) }
            default: long = (0..<9_000).map { _ in Array("!?.,;:-()".utf8)[Int(rng.next() % 9)] }
            }
            text += [0x20] + long
            for _ in 0..<500 { text += randomWord(&rng) }
            var fast: [UInt32] = []
            text.withUnsafeBufferPointer { p in
                ctx.bind(to: Loaded.gpt2)
                ctx.encodeSplit(p, .gpt2, Loaded.gpt2.model, into: &fast)
            }
            XCTAssertGreaterThan(fast.count, 3 * EncodingContext.stagingIds)
            XCTAssertEqual(fast, plainEncode(text, Loaded.gpt2, .gpt2, scratch: scratch), "round \(round)")
        }
    }
}

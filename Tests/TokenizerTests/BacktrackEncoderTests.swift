// The backtracking encoder (BacktrackEncoder.swift) against the rank-order heap merge
// (`mergeWithHeap`, BPEMerge.swift). The tokenizer itself now merges with the encoder, so the
// textbook merge (NaiveMergeTests) and the HF/tiktoken parity fixtures check it end to end.
//
// Compared on seeded random pieces for the bundled byte-level vocabularies (GPT-2 and Pythia
// merge lists, cl100k and Qwen2 tiktoken ranks), on the worst cases (long runs of one letter,
// digits, spaces, random CJK), and on small random merge lists built to stress the pair-validity
// walk (few letters, many merges, several merges giving the same token). Vocabularies where the
// encoder would not be exact must be refused by `BacktrackTables.build`.

import Foundation
import XCTest
@testable import Tokenizer

final class BacktrackEncoderTests: XCTestCase {
    /// The heap merge's ids (the reference) and the backtracking encoder's ids for one piece.
    func both(_ model: BPEModel, _ tables: BacktrackTables, _ piece: [UInt8],
              scratch: MergeScratch = MergeScratch()) -> (heap: [UInt32], backtrack: [UInt32]) {
        piece.withUnsafeBufferPointer { p -> ([UInt32], [UInt32]) in
            guard let base = p.baseAddress, p.count >= 2 else { return ([], []) }
            let dst = UnsafeMutablePointer<UInt32>.allocate(capacity: p.count)
            defer { dst.deallocate() }
            let h = model.mergeWithHeap(base, p.count, dst: dst, scratch: scratch)
            let heap = Array(UnsafeBufferPointer(start: dst, count: h))
            let b = model.encodeBacktracking(base, p.count, dst: dst, scratch: scratch, tables)
            return (heap, Array(UnsafeBufferPointer(start: dst, count: b)))
        }
    }

    func tables(_ t: Tokenizer, _ name: String) throws -> BacktrackTables {
        try XCTUnwrap(t.model.backtrack?.tables, "\(name): BacktrackTables.build refused the vocabulary")
    }

    /// UTF-8 of `count` random characters from `scalars`.
    func utf8(_ scalars: [ClosedRange<UInt32>], count: Int, rng: inout SeededRandom) -> [UInt8] {
        var s = String.UnicodeScalarView()
        for _ in 0..<count {
            let r = scalars[Int(rng.next() % UInt64(scalars.count))]
            let v = r.lowerBound + UInt32(rng.next() % UInt64(r.upperBound - r.lowerBound + 1))
            if let u = Unicode.Scalar(v) { s.append(u) }
        }
        return Array(String(s).utf8)
    }

    /// Seeded random pieces of 2–400 bytes: English-like letters, code, digits, whitespace, raw
    /// bytes, accented Latin, CJK, and mixtures.
    func randomPieces(seed: UInt64, count: Int) -> [[UInt8]] {
        var rng = SeededRandom(seed: seed)
        let ascii: [[UInt8]] = [Array(" etaoinshrdlucmfwypvbgkqjxz".utf8), Array("ab".utf8), Array("0123456789".utf8),
                                Array("  \n\t\r".utf8), Array("{}()[];:=+-*/_.,<>!&|'\"#abcxyzXYZ019 ".utf8),
                                Array("aaaaaaaaab".utf8)]
        let unicode: [[ClosedRange<UInt32>]] = [[0x4E00...0x9FFF], [0xE0...0xFF, 0x61...0x7A], [0x3040...0x30FF, 0x4E00...0x4FFF],
                                                [0x20...0x7E, 0xA0...0x2FF, 0x400...0x4FF, 0x1F600...0x1F64F]]
        let lengths = [2, 3, 4, 5, 7, 8, 9, 12, 16, 23, 24, 25, 31, 40, 64, 100, 150, 400]
        var out: [[UInt8]] = []
        while out.count < count {
            let n = lengths[Int(rng.next() % UInt64(lengths.count))]
            var piece: [UInt8]
            switch rng.next() % 9 {
            case 0..<6:
                let alphabet = ascii[Int(rng.next() % UInt64(ascii.count))]
                piece = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            case 6:
                piece = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            default:
                let set = unicode[Int(rng.next() % UInt64(unicode.count))]
                piece = utf8(set, count: max(1, n / 3), rng: &rng)
            }
            if piece.count >= 2 { out.append(piece) }
        }
        return out
    }

    func checkRandomPieces(_ t: Tokenizer, _ name: String, seed: UInt64, count: Int) throws {
        let bt = try tables(t, name)
        let scratch = MergeScratch()
        var failures = 0
        for (i, piece) in randomPieces(seed: seed, count: count).enumerated() {
            let r = both(t.model, bt, piece, scratch: scratch)
            if r.heap != r.backtrack {
                failures += 1
                if failures <= 5 { XCTFail("\(name) piece \(i) \(piece): heap \(r.heap), backtracking \(r.backtrack)") }
            }
        }
        XCTAssertEqual(failures, 0, "\(name): \(failures) of \(count) pieces differ")
    }

    func testRandomPiecesGPT2() throws { try checkRandomPieces(Loaded.gpt2, "gpt2", seed: 1, count: 1500) }
    func testRandomPiecesPythia() throws { try checkRandomPieces(Loaded.pythia, "pythia", seed: 2, count: 1500) }
    func testRandomPiecesCl100k() throws { try checkRandomPieces(Loaded.cl100k, "cl100k", seed: 3, count: 1500) }
    func testRandomPiecesQwen2() throws { try checkRandomPieces(Loaded.qwen2, "qwen2", seed: 4, count: 1500) }

    /// Every bundled byte-level vocabulary gets the tables (pythia lacks some bytes: allowed).
    func testBundledVocabulariesAreAccepted() throws {
        for (name, t) in [("gpt2", Loaded.gpt2), ("pythia", Loaded.pythia), ("dolma2", Loaded.dolma2),
                          ("cl100k", Loaded.cl100k), ("qwen2", Loaded.qwen2)] {
            _ = try tables(t, name)
            let model = t.pipelineDescription.first { $0.stage == "model" }?.value ?? ""
            XCTAssertTrue(model.contains("backtracking encoder"), "\(name): finetok info says \(model)")
        }
    }

    /// The 8 KB table of single-byte pairs says what the merge rules say: two single-byte
    /// tokens form a valid pair exactly when no rule merges them (nothing can cross first).
    /// Then pieces made only of bytes that are rarely merged, where most pairs checked are two
    /// single bytes: random non-ASCII bytes, and Chinese with the bytes of a merge in between.
    func testSingleBytePairs() throws {
        for (name, t) in [("gpt2", Loaded.gpt2), ("pythia", Loaded.pythia), ("cl100k", Loaded.cl100k)] {
            let bt = try tables(t, name)
            var valid = 0
            for a in 0..<256 where t.model.byteIds[a] != BPEModel.noId {
                for b in 0..<256 where t.model.byteIds[b] != BPEModel.noId {
                    let merges = t.model.pairs.get(t.model.byteIds[a], t.model.byteIds[b]) != PairTable.missing
                    XCTAssertEqual(bt.isValidSingleBytePair(UInt8(a), UInt8(b)), !merges, "\(name): bytes \(a), \(b)")
                    if !merges { valid += 1 }
                }
            }
            XCTAssertGreaterThan(valid, 1000, name)
            var rng = SeededRandom(seed: 8)
            let scratch = MergeScratch()
            for i in 0..<200 {
                let n = 2 + Int(rng.next() % 300)
                let piece: [UInt8] = i % 2 == 0
                    ? (0..<n).map { _ in UInt8(0x80 + rng.next() % 128) }
                    : Array((0..<max(1, n / 3)).map { k -> String in
                        if k % 5 == 4 { return "的是" }
                        return Unicode.Scalar(0x4E00 + UInt32(rng.next() % 0x5200)).map { String(Character($0)) } ?? ""
                    }.joined().utf8)
                let r = both(t.model, bt, piece, scratch: scratch)
                XCTAssertEqual(r.heap, r.backtrack, "\(name) piece \(i): \(piece)")
            }
        }
    }

    /// Pieces with bytes that have no token (pythia: 0xC0, 0xC1, 0xF5–0xFF) mixed with text.
    func testPiecesWithBytesWithoutTokens() throws {
        let t = Loaded.pythia
        let bt = try tables(t, "pythia")
        let missing = (0..<256).filter { t.model.byteIds[$0] == BPEModel.noId }.map(UInt8.init)
        XCTAssertFalse(missing.isEmpty)
        var rng = SeededRandom(seed: 6)
        let letters = Array(" theandofin".utf8) + missing
        for i in 0..<300 {
            let piece = (0..<(2 + Int(rng.next() % 40))).map { _ in letters[Int(rng.next() % UInt64(letters.count))] }
            let r = both(t.model, bt, piece)
            XCTAssertEqual(r.heap, r.backtrack, "piece \(i): \(piece)")
        }
    }

    /// The pieces the worst-case suite is made of, 12–24 KB each: a run of one letter,
    /// random digits (gpt2 does not split them), a run of spaces (cl100k keeps them whole),
    /// random CJK, and a two-letter alternation.
    func testWorstCases() throws {
        var rng = SeededRandom(seed: 99)
        let n = 12_000
        let pieces: [(String, [UInt8])] = [
            ("letter run", [UInt8](repeating: UInt8(ascii: "a"), count: n)),
            ("space run", [UInt8](repeating: UInt8(ascii: " "), count: n)),
            ("digits", (0..<n).map { _ in UInt8(ascii: "0") + UInt8(rng.next() % 10) }),
            ("random CJK", utf8([0x4E00...0x9FFF], count: n / 3, rng: &rng)),
            ("common CJK", utf8([0x4E00...0x4FFF], count: n / 3, rng: &rng)),
            ("alternation", (0..<n).map { UInt8(ascii: $0 % 2 == 0 ? "a" : "b") }),
            ("newline run", [UInt8](repeating: 0x0A, count: n)),
        ]
        for (name, t) in [("gpt2", Loaded.gpt2), ("cl100k", Loaded.cl100k), ("qwen2", Loaded.qwen2)] {
            let bt = try tables(t, name)
            let scratch = MergeScratch()
            for (what, piece) in pieces {
                let r = both(t.model, bt, piece, scratch: scratch)
                XCTAssertEqual(r.heap.count, r.backtrack.count, "\(name), \(what): counts")
                XCTAssertTrue(r.heap == r.backtrack, "\(name), \(what): ids differ")
            }
            XCTAssertEqual(scratch.searchesGivenUp, 0, name)
        }
    }

    /// The tokenizer's own paths (hot cache, whole tokens, piece cache, long pieces) use the
    /// encoder: a long letter run through `encode` gives the heap's ids.
    func testEncodeUsesTheEncoderExactly() throws {
        let t = Loaded.cl100k
        let bt = try tables(t, "cl100k")
        let text = String(repeating: "x", count: 5000) + " " + String(repeating: "7", count: 3)
        let ids = t.encode(text)
        let first = both(t.model, bt, Array(String(repeating: "x", count: 5000).utf8)).heap
        XCTAssertEqual(Array(ids.prefix(first.count)), first)
    }

    /// The tables are built in the background at load (`BacktrackSlot`): threads that encode
    /// long pieces at once, before the build can have finished, get the same ids (a 6 KB piece
    /// waits for the tables, a 500-byte one may be merged with the heap).
    func testEncodingRightAfterLoadWaitsForTheTables() throws {
        let text = String(repeating: "ab", count: 3000) + " 中文字符测试" + String(repeating: "9", count: 500)
        let expected = Loaded.gpt2.encode(text)
        let fresh = try Tokenizer.load(vocabPath("gpt2"))
        let results = UnsafeMutableBufferPointer<[UInt32]>.allocate(capacity: 4)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        nonisolated(unsafe) let out = results
        DispatchQueue.concurrentPerform(iterations: 4) { k in out[k] = fresh.encode(text) }
        for k in 0..<4 { XCTAssertEqual(results[k], expected, "thread \(k)") }
    }

    /// Until the tables are built, a piece of up to `waitAbove` bytes gets none (the heap
    /// merges it) and a longer piece waits for them; once built, every piece gets them.
    func testPiecesWaitForTheTablesOnlyWhenLong() throws {
        let gate = DispatchSemaphore(value: 0)
        let model = Loaded.gpt2.model
        let slot = BacktrackSlot {
            gate.wait()
            return BacktrackTables.build(model: model)
        }
        XCTAssertNil(slot.tables(forPiece: 30))
        XCTAssertNil(slot.tables(forPiece: BacktrackSlot.waitAbove))
        gate.signal()
        let built = try XCTUnwrap(slot.tables(forPiece: BacktrackSlot.waitAbove + 1))
        XCTAssertTrue(slot.tables(forPiece: 30) === built)
    }

    /// `merge`, which picks the scan or the backtracking encoder by length and last byte, gives
    /// the heap's ids on both sides of both limits (Latin-script and Chinese pieces).
    func testMergeRoutesExactly() throws {
        for (name, t) in [("gpt2", Loaded.gpt2), ("cl100k", Loaded.cl100k)] {
            _ = try tables(t, name)
            let scratch = MergeScratch()
            var rng = SeededRandom(seed: 11)
            var routed = 0
            let letters = Array("etaoinshrdlu")
            for _ in 0..<400 {
                let chinese = utf8([0x4E00...0x9FFF], count: 1 + Int(rng.next() % 10), rng: &rng)
                let latin = Array(String((0..<(2 + Int(rng.next() % 30))).map { _ in letters[Int(rng.next() % 12)] }).utf8)
                for piece in [chinese, latin, latin + chinese, chinese + latin] where piece.count >= 2 {
                    var viaMerge: [UInt32] = []
                    t.model.merge(piece, piece.count, into: &viaMerge, scratch: scratch)
                    let heap = piece.withUnsafeBufferPointer { p -> [UInt32] in
                        let dst = UnsafeMutablePointer<UInt32>.allocate(capacity: p.count)
                        defer { dst.deallocate() }
                        let n = t.model.mergeWithHeap(p.baseAddress!, p.count, dst: dst, scratch: scratch)
                        return Array(UnsafeBufferPointer(start: dst, count: n))
                    }
                    XCTAssertEqual(viaMerge, heap, "\(name): \(String(decoding: piece, as: UTF8.self))")
                    if piece.count > scriptPieceLimit && piece.count <= shortPieceLimit && piece.last! >= 0x80 { routed += 1 }
                }
            }
            XCTAssertGreaterThan(routed, 100, "\(name): pieces between the limits ending in Chinese")
        }
    }

    /// One scratch used with two models must not answer the second from the first's cache.
    func testScratchSharedBetweenModels() throws {
        let scratch = MergeScratch()
        let pieces = randomPieces(seed: 5, count: 200)
        for (name, t) in [("gpt2", Loaded.gpt2), ("cl100k", Loaded.cl100k), ("gpt2", Loaded.gpt2), ("qwen2", Loaded.qwen2)] {
            let bt = try tables(t, name)
            for piece in pieces {
                let r = both(t.model, bt, piece, scratch: scratch)
                XCTAssertEqual(r.heap, r.backtrack, "\(name): \(piece)")
            }
        }
    }

    // MARK: small merge lists

    /// A byte-level model: the 256 bytes, then `merges` in rank order (HF style: rank = index).
    func model(merges: [([UInt8], [UInt8])]) -> BPEModel? {
        var tokens: [[UInt8]?] = (0..<256).map { [UInt8($0)] }
        var idOf: [[UInt8]: UInt32] = [:]
        for (i, t) in tokens.enumerated() { if let t { idOf[t] = UInt32(i) } }
        var rules: [(UInt32, UInt32, UInt32, UInt32)] = []
        for (rank, (a, b)) in merges.enumerated() {
            guard let l = idOf[a], let r = idOf[b] else { return nil }
            let joined = a + b
            let id: UInt32
            if let existing = idOf[joined] {
                id = existing
            } else {
                id = UInt32(tokens.count)
                tokens.append(joined)
                idOf[joined] = id
            }
            rules.append((l, r, UInt32(rank), id))
        }
        let table = PairRules(capacity: rules.count)
        for (l, r, rank, id) in rules { table.set(l, r, rank: rank, id: id) }
        guard let pairs = try? table.table(path: "random merges") else { return nil }
        return BPEModel(tokens: tokens, pairs: pairs, wholePieceFirst: false)
    }

    /// Random merge lists over 2–4 letters, each merge joining two tokens that already exist.
    /// Without two merges giving the same token (what training produces) ranks grow toward the
    /// root, so every list must be accepted; with them (HF allows it) a list may be refused.
    /// Every accepted list must give the heap's ids on random texts over its letters.
    func testRandomMergeLists() throws {
        var rng = SeededRandom(seed: 2024)
        var accepted = (trained: 0, withRepeats: 0)
        let trials = 80
        for trial in 0..<trials {
            let repeats = trial % 2 == 1
            // Every fourth list pair is over digits, so long pieces take the digit tables
            // (BacktrackEncoder+Digits.swift) with merge trees of up to 12 digits.
            let letters = Array((trial % 4 < 2 ? "abcd" : "0123").utf8.prefix(2 + trial % 3))
            var known: [[UInt8]] = letters.map { [$0] }
            var merges: [([UInt8], [UInt8])] = []
            var seen = Set<[[UInt8]]>()
            let target = 20 + Int(rng.next() % 60)
            var attempts = 0
            while merges.count < target && attempts < 20 * target {
                attempts += 1
                let a = known[Int(rng.next() % UInt64(known.count))]
                let b = known[Int(rng.next() % UInt64(known.count))]
                if a.count + b.count > 12 || seen.contains([a, b]) { continue }
                if !repeats && known.contains(a + b) { continue }
                seen.insert([a, b])
                merges.append((a, b))
                if !known.contains(a + b) { known.append(a + b) }
            }
            let m = try XCTUnwrap(model(merges: merges))
            guard let bt = BacktrackTables.build(model: m) else {
                XCTAssertTrue(repeats, "trial \(trial): refused a merge list without repeated tokens")
                continue
            }
            if repeats { accepted.withRepeats += 1 } else { accepted.trained += 1 }
            let scratch = MergeScratch()
            for k in 0..<80 {
                let n = 2 + Int(rng.next() % (k < 60 ? 30 : 300))
                var piece = (0..<n).map { _ in letters[Int(rng.next() % UInt64(letters.count))] }
                if k % 4 == 3 { piece[0] = UInt8(ascii: " ") }
                let r = both(m, bt, piece, scratch: scratch)
                if r.heap != r.backtrack {
                    let list = merges.map { String(decoding: $0.0, as: UTF8.self) + " " + String(decoding: $0.1, as: UTF8.self) }
                    XCTFail("trial \(trial), merges \(list), piece \(String(decoding: piece, as: UTF8.self)): heap \(r.heap), backtracking \(r.backtrack)")
                    return
                }
            }
        }
        XCTAssertEqual(accepted.trained, trials / 2)
        // Enough of the lists with repeated tokens are accepted to exercise them.
        XCTAssertGreaterThan(accepted.withRepeats, trials / 8, "lists with repeats accepted: \(accepted.withRepeats)")
    }

    /// The digit tables (BacktrackEncoder+Digits.swift) answer as the trie and the spine walk
    /// do: the longest token of every digit string of one to five digits, the validity of every
    /// pair of tokens of one or two digits and of 20,000 seeded pairs of up to three, read twice
    /// through a thread's matrix (filled, then read back). Then digit runs of 32 bytes to 3 KB,
    /// random and patterned, some after a space, against the heap merge.
    func testDigitRuns() throws {
        for (name, t) in [("gpt2", Loaded.gpt2), ("pythia", Loaded.pythia), ("cl100k", Loaded.cl100k)] {
            let bt = try tables(t, name)
            let digits = try XCTUnwrap(bt.digits, "\(name): no digit tables")
            var tokenOfRow = [UInt32](repeating: BPEModel.noId, count: digits.rowCount)
            var rowsOfShort: [UInt16] = []
            for i in 0..<DigitTokens.strings where digits.rows[i] != .max {
                tokenOfRow[Int(digits.rows[i])] = digits.ids[i]
                if i < 110 { rowsOfShort.append(digits.rows[i]) }
            }
            XCTAssertFalse(tokenOfRow.contains(BPEModel.noId), name)
            var matches = 0
            for length in 1...5 {
                var limit = 1
                for _ in 0..<length { limit *= 10 }
                for value in 0..<limit {
                    var v = value
                    var s = [UInt8](repeating: 0, count: length)
                    for k in stride(from: length - 1, through: 0, by: -1) { s[k] = UInt8(48 + v % 10); v /= 10 }
                    s.withUnsafeBufferPointer { p in
                        let a = digits.longestMatch(p.baseAddress!, length, trie: bt.trie), b = bt.trie.longestMatch(p.baseAddress!, length)
                        if a != b { XCTFail("\(name) \(String(decoding: s, as: UTF8.self)): \(a) against the trie's \(b)") } else { matches += 1 }
                    }
                }
            }
            XCTAssertEqual(matches, 111_110, name)
            let scratch = MergeScratch()
            scratch.bindValidity(to: bt)
            let matrix = scratch.digitPairs(for: digits)
            var rng = SeededRandom(seed: 31)
            var pairs: [(UInt16, UInt16)] = rowsOfShort.flatMap { a in rowsOfShort.map { (a, $0) } }
            for _ in 0..<20_000 { pairs.append((UInt16(rng.next() % UInt64(digits.rowCount)), UInt16(rng.next() % UInt64(digits.rowCount)))) }
            var valid = 0, wrong = 0
            for round in 0..<2 {
                for (a, b) in pairs {
                    let expected = bt.isValidPair(tokenOfRow[Int(a)], tokenOfRow[Int(b)], t.model.pairs)
                    if digits.isValidPair(a, b) != expected || digits.isValidPair(a, b, matrix: matrix) != expected { wrong += 1 }
                    if round == 0 && expected { valid += 1 }
                }
            }
            XCTAssertEqual(wrong, 0, "\(name): pairs answered differently")
            // Both answers are exercised.
            XCTAssertGreaterThan(valid, 1000, name)
            XCTAssertGreaterThan(pairs.count - valid, 1000, name)
            var runs: [[UInt8]] = [Array(String(repeating: "2000", count: 200).utf8), Array(String(repeating: "0", count: 999).utf8),
                                   Array(String(repeating: "1234567890", count: 100).utf8), Array((" " + String(repeating: "19", count: 40)).utf8)]
            for k in 0..<60 {
                let n = 32 + Int(rng.next() % UInt64(k < 50 ? 200 : 3000))
                var run = (0..<n).map { _ in UInt8(48 + rng.next() % 10) }
                if k % 3 == 0 { run[0] = UInt8(ascii: " ") }
                runs.append(run)
            }
            for run in runs {
                let r = both(t.model, bt, run, scratch: scratch)
                XCTAssertEqual(r.heap, r.backtrack, "\(name): \(String(decoding: run, as: UTF8.self))")
            }
        }
    }

    /// Three-byte characters pushed at once (BacktrackEncoder+Characters.swift). Every
    /// character's entry is BPE of its three bytes (the heap's ids); the junction filters never
    /// call a pair of characters safe when the spine walk finds a merge across (20,000 seeded
    /// pairs of CJK, kana and Hangul); long pieces of random characters, of Chinese words
    /// (where cl100k's tokens of two characters make junctions fail and tokens pushed with
    /// their character get popped) and of mixtures give the heap's ids.
    func testCharacterRuns() throws {
        for (name, t) in [("gpt2", Loaded.gpt2), ("pythia", Loaded.pythia), ("cl100k", Loaded.cl100k), ("qwen2", Loaded.qwen2)] {
            let bt = try tables(t, name)
            let scratch = MergeScratch()
            func heap(_ bytes: [UInt8]) -> [UInt32] {
                bytes.withUnsafeBufferPointer { p in
                    let dst = UnsafeMutablePointer<UInt32>.allocate(capacity: p.count)
                    defer { dst.deallocate() }
                    let k = t.model.mergeWithHeap(p.baseAddress!, p.count, dst: dst, scratch: scratch)
                    return Array(UnsafeBufferPointer(start: dst, count: k))
                }
            }
            var wrong = 0
            for key in 0..<(1 << 16) {
                let c = [0xE0 | UInt8(key >> 12), 0x80 | UInt8(key >> 6 & 0x3F), 0x80 | UInt8(key & 0x3F)]
                if bt.characterTokens(c[0], c[1], c[2]) != heap(c) { wrong += 1 }
            }
            XCTAssertEqual(wrong, 0, "\(name): characters whose entry is not BPE of their bytes")
            var rng = SeededRandom(seed: 77)
            let scripts: [ClosedRange<UInt32>] = [0x4E00...0x9FFF, 0x3040...0x30FF, 0xAC00...0xD7A3]
            func character() -> [UInt8] {
                let r = scripts[Int(rng.next() % 3)]
                return utf8([r], count: 1, rng: &rng)
            }
            var filtered = 0, unsafeCalledSafe = 0
            for _ in 0..<20_000 {
                let x = character(), y = character()
                guard let a = heap(x).last, let b = heap(y).first else { continue }
                if !bt.areAdjacentInSomeToken(x[2], y[0]) || !bt.mayMergeAcross(x[1], x[2], y[0], y[1]) {
                    filtered += 1
                    if !bt.isValidPair(a, b, t.model.pairs) || heap(x + y) != heap(x) + heap(y) { unsafeCalledSafe += 1 }
                }
            }
            XCTAssertEqual(unsafeCalledSafe, 0, name)
            XCTAssertGreaterThan(filtered, 5_000, name)
            let words = ["我们", "中国", "人民", "国家", "一个", "发展", "经济", "社会", "工作", "问题", "时候", "没有",
                         "自己", "这个", "什么", "已经", "因为", "所以", "学生", "老师", "今天", "明天", "东西", "世界"]
            var pieces: [[UInt8]] = []
            for k in 0..<24 {
                var text = ""
                let chars = 90 + Int(rng.next() % 400)
                while text.unicodeScalars.count < chars {
                    switch k % 4 {
                    case 0: text += String(decoding: character(), as: UTF8.self)
                    case 1: text += words[Int(rng.next() % UInt64(words.count))]
                    case 2: text += rng.next() % 5 == 0 ? "é" : rng.next() % 7 == 0 ? "😀" : rng.next() % 9 == 0 ? "x" : String(decoding: character(), as: UTF8.self)
                    default: text += rng.next() % 2 == 0 ? words[Int(rng.next() % UInt64(words.count))] : String(decoding: character(), as: UTF8.self)
                    }
                }
                pieces.append(Array(text.utf8))
            }
            for piece in pieces {
                XCTAssertGreaterThanOrEqual(piece.count, CharacterCandidates.minRun)
                let r = both(t.model, bt, piece, scratch: scratch)
                XCTAssertEqual(r.heap, r.backtrack, "\(name): \(String(decoding: piece, as: UTF8.self))")
            }
            // The search found every encoding itself (a popped character's positions are
            // tried from the longest token), without falling back to the heap.
            XCTAssertEqual(scratch.searchesGivenUp, 0, name)
        }
    }

    /// A merge ranked before the merge that made one of its halves breaks the encoder's
    /// assumption (ranks grow toward the root): the model must keep the heap merge.
    func testRefusesARankBelowItsHalves() throws {
        let ok = try XCTUnwrap(model(merges: [(Array("x".utf8), Array("y".utf8)), (Array("xy".utf8), Array("z".utf8))]))
        XCTAssertNotNil(BacktrackTables.build(model: ok))
        // "xy" at rank 1, "xyz" at rank 2, then "xyz" + "w" at rank 0: BPE of "xyzw" still ends
        // with that merge, below the rank that made its left half.
        var tokens: [[UInt8]?] = (0..<256).map { [UInt8($0)] }
        tokens += [Array("xy".utf8), Array("xyz".utf8), Array("xyzw".utf8)]
        let x = UInt32(UInt8(ascii: "x")), y = UInt32(UInt8(ascii: "y")), z = UInt32(UInt8(ascii: "z")), w = UInt32(UInt8(ascii: "w"))
        let rules = PairRules(capacity: 3)
        rules.set(x, y, rank: 1, id: 256)
        rules.set(256, z, rank: 2, id: 257)
        rules.set(257, w, rank: 0, id: 258)
        let bad = BPEModel(tokens: tokens, pairs: try rules.table(path: "three merges"), wholePieceFirst: false)
        var out: [UInt32] = []
        Array("xyzw".utf8).withUnsafeBufferPointer { p in
            if let base = p.baseAddress { bad.merge(base, p.count, into: &out, scratch: MergeScratch()) }
        }
        XCTAssertEqual(out, [258], "the heap merge of the refused model")
        XCTAssertNil(BacktrackTables.build(model: bad))
    }
}

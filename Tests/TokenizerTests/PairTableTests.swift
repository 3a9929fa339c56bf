// The compact merge table (PairTable.swift) against the rules it was built from: every rule's
// merged id comes back (through the filter too), missing pairs are missing, and the ranks it reports order the rules as
// their true ranks do, ties included, in both of its modes (merged id standing for the rank,
// or a side table of values). Also the limit on ids, and `forEachPair`.

import XCTest
@testable import Tokenizer

final class PairTableTests: XCTestCase {
    typealias Rule = (left: UInt32, right: UInt32, rank: UInt32, id: UInt32)

    /// Builds the table of `rules` (later rules for the same pair replace earlier ones) and checks
    /// it against them; returns the table.
    @discardableResult
    func check(_ rules: [Rule], idRange: Range<UInt32>, seed: UInt64, _ what: String) throws -> PairTable {
        let builder = PairRules(capacity: rules.count)
        var expected: [UInt64: (rank: UInt32, id: UInt32)] = [:]
        for r in rules {
            builder.set(r.left, r.right, rank: r.rank, id: r.id)
            expected[UInt64(r.left) << 32 | UInt64(r.right)] = (r.rank, r.id)
        }
        let table = try builder.table(path: what)
        XCTAssertEqual(table.count, expected.count, what)
        var got: [(reported: UInt64, rank: UInt32)] = []
        for (k, v) in expected {
            let value = table.get(UInt32(k >> 32), UInt32(truncatingIfNeeded: k))
            XCTAssertNotEqual(value, PairTable.missing, what)
            XCTAssertTrue(table.mayHave(UInt32(k >> 32), UInt32(truncatingIfNeeded: k)), "\(what): the filter lost a rule")
            XCTAssertEqual(table.filteredGet(UInt32(k >> 32), UInt32(truncatingIfNeeded: k)), value, "\(what): get behind the filter")
            XCTAssertEqual(UInt32(truncatingIfNeeded: value), v.id, "\(what): merged id")
            got.append((value >> 32, v.rank))
        }
        // Reported ranks in the order of the true ranks: same order, same ties.
        got.sort { $0.rank < $1.rank }
        for (a, b) in zip(got, got.dropFirst()) {
            if a.rank == b.rank { XCTAssertEqual(a.reported, b.reported, "\(what): tied ranks") }
            else { XCTAssertLessThan(a.reported, b.reported, "\(what): rank order") }
        }
        // Pairs without a rule, and pairs holding noId.
        var rng = SeededRandom(seed: seed ^ 0xABCD)
        var absent = 0, maybe = 0
        for _ in 0..<2000 {
            let l = UInt32.random(in: idRange, using: &rng), r = UInt32.random(in: idRange, using: &rng)
            if expected[UInt64(l) << 32 | UInt64(r)] == nil {
                XCTAssertEqual(table.get(l, r), PairTable.missing, what)
                XCTAssertEqual(table.filteredGet(l, r), PairTable.missing, what)
                absent += 1
                if table.mayHave(l, r) { maybe += 1 }
            }
            XCTAssertEqual(table.get(l, BPEModel.noId), PairTable.missing, what)
            XCTAssertEqual(table.get(BPEModel.noId, r), PairTable.missing, what)
        }
        // The filter is sized for ~4% false positives; 10% would mean it is broken or undersized.
        XCTAssertLessThan(Double(maybe), 0.10 * Double(absent), "\(what): filter false positives \(maybe) of \(absent)")
        var pairs = Set<UInt64>()
        table.forEachPair { l, r in pairs.insert(UInt64(l) << 32 | UInt64(r)) }
        XCTAssertEqual(pairs, Set(expected.keys), "\(what): forEachPair")
        return table
    }

    func randomRules(_ n: Int, ids: Range<UInt32>, seed: UInt64, value: (Int, inout SeededRandom) -> (UInt32, UInt32)) -> [Rule] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { i in
            let (rank, id) = value(i, &rng)
            return (UInt32.random(in: ids, using: &rng), UInt32.random(in: ids, using: &rng), rank, id)
        }
    }

    func testRankIsTheId() throws {
        // tiktoken: the rank of a pair is the id of what it makes.
        let rules = randomRules(20000, ids: 0..<30000, seed: 1) { _, rng in let t = UInt32.random(in: 256..<30000, using: &rng); return (t, t) }
        XCTAssertTrue(try check(rules, idRange: 0..<30000, seed: 1, "rank = id").idsAreRanks)
    }

    func testIdsInRankOrder() throws {
        // GPT-2-style merge list: rule k makes token 256 + k.
        let rules = randomRules(20000, ids: 0..<20256, seed: 2) { i, _ in (UInt32(i), UInt32(256 + i)) }
        XCTAssertTrue(try check(rules, idRange: 0..<20256, seed: 2, "ids in rank order").idsAreRanks)
    }

    func testTiedRanksAndSharedIds() throws {
        // SentencePiece: pieces of equal score share a rank; and a merge list where two rules make
        // one token at different ranks. Neither can use the id as its rank.
        let tied = randomRules(20000, ids: 0..<5000, seed: 3) { _, rng in
            let id = UInt32.random(in: 0..<5000, using: &rng)
            return (id / 7, id)
        }
        XCTAssertFalse(try check(tied, idRange: 0..<5000, seed: 3, "tied ranks").idsAreRanks)
        let shared = randomRules(20000, ids: 0..<5000, seed: 4) { i, rng in (UInt32(i), UInt32.random(in: 256..<400, using: &rng)) }
        XCTAssertFalse(try check(shared, idRange: 0..<5000, seed: 4, "shared ids").idsAreRanks)
        let reversed = randomRules(5000, ids: 0..<6000, seed: 5) { i, _ in (UInt32(5000 - i), UInt32(256 + i)) }
        XCTAssertFalse(try check(reversed, idRange: 0..<6000, seed: 5, "ids against rank order").idsAreRanks)
    }

    func testLargestIdsAndReplacedRules() throws {
        let top = UInt32(PairTable.idLimit - 1)
        var rules: [Rule] = [(top, top, 3, top), (0, top, 1, 7), (top, 0, 2, 9)]
        rules.append((0, top, 0, 5))   // replaces (0, top)
        try check(rules, idRange: (top - 100)..<(top + 1), seed: 6, "largest ids")
    }

    func testBundledVocabulariesUseOneLoad() {
        // Their merged ids follow their ranks, so no lookup reads the side table.
        for (name, t) in [("gpt2", Loaded.gpt2), ("pythia", Loaded.pythia), ("dolma2", Loaded.dolma2),
                          ("cl100k", Loaded.cl100k), ("qwen2", Loaded.qwen2)] {
            XCTAssertTrue(t.model.pairs.idsAreRanks, name)
        }
    }

    func testFilterHoldsEveryRuleOfTheBundledVocabularies() {
        // A lost rule would make the backtracking encoder accept an invalid pair.
        for (name, t) in [("gpt2", Loaded.gpt2), ("cl100k", Loaded.cl100k), ("qwen2", Loaded.qwen2)] {
            var lost = 0, rules = 0
            t.model.pairs.forEachPair { l, r in
                rules += 1
                if !t.model.pairs.mayHave(l, r) { lost += 1 }
            }
            XCTAssertEqual(lost, 0, "\(name): \(lost) of \(rules) rules not in the filter")
            XCTAssertEqual(rules, t.model.pairs.count, name)
        }
    }

    func testIdsBeyondTheLimitAreRefused() {
        let rules = PairRules(capacity: 1)
        rules.set(1, UInt32(PairTable.idLimit), rank: 0, id: 2)
        XCTAssertThrowsError(try rules.table(path: "big/merges.txt")) { error in
            XCTAssertTrue("\(error)".contains("big/merges.txt"), "\(error)")
        }
    }
}

// The merge rules, read by every merge step: the pair of ids (left, right) → `rank << 32 | id`,
// the rank saying which merge goes first and the id what it makes.
//
// Why 8-byte slots. A piece that is in no cache is merged from its bytes, and each merge step
// looks up the one or two pairs it creates: a chain of dependent loads into this table, one per
// step. The table is read at random, so its size decides whether those loads hit the shared
// cache or go to memory: on the benchmark machine a dependent random load costs ~18–21 ns
// within 1–2 MB and ~180 ns from 4 MB (`finetok-bench --sections latency`). With 16-byte slots
// kept half full, GPT-2's 50k rules took 2 MB and cl100k's 233k (every split of a token into
// two tokens) 8 MB. Here a slot is one word, `left << 43 | right << 22 | v`, at most 80% full:
// 512 KB for GPT-2. (Measured on en/gpt2, alternating runs on one CPU: the 512 KB table beat
// the same slots at 1 MB, half full, by 7% in the median, though it runs more probes.) A
// tiktoken file keeps only the split of each token that a merge can make (`tiktokenRules`,
// Tokenizer+Tiktoken.swift): cl100k's 100k rules take 1 MB.
//
// What `v` is. The rank is only ever compared with another rank of the same table (the merge
// loops, the heap's keys, the backtracking encoder's spines), so any numbering of the rules in
// rank order will do. When ranks and merged ids are in the same order — tiktoken files (rank
// = id) and merge lists whose ids follow their ranks, as GPT-2's — `v` is the merged id and
// doubles as the rank (`idsAreRanks`; all bundled byte-level vocabularies): one load per lookup.
// Otherwise (SentencePiece's equal scores, a merge list where two rules make one token) `v`
// indexes `values`, which holds the true `rank << 32 | id`: a second, dependent load into a
// table of the distinct values.
//
// Many lookups find nothing: on zh/cl100k 99.5% of those of the backtracking encoder's validity
// walk (BacktrackEncoder.swift), ~4 per walk, and on en/cl100k 36% of those the merge loops
// make after a merge (BPEMerge.swift). `mayHave` answers those from a Bloom filter of one 64-bit
// word per key (two bits), sized at ~8 bits a rule: 128 KB for cl100k, 64 KB for GPT-2, about
// 4% false positives, so its lines stay in the L2 cache where the table's miss. A "no" from it
// is exact; a "maybe" goes to the table (`filteredGet`). With it, a cold pass over 3 MB of en
// simulated with a 1 MB L2 (cachegrind) missed the L2 cache 9–15% less often (cl100k).
//
// Limits: ids below 2^21 - 1 (2,097,150 tokens; the largest vocabularies in use are ~262k),
// and at most 2^22 distinct values. `PairRules.table` names the file when a vocabulary is
// larger.

/// Merge rules while a tokenizer is being read: set, replaced (a later rule for the same pair
/// replaces the earlier, as in HF), then turned into a `PairTable`.
final class PairRules {
    private var rules: [UInt64: UInt64] = [:]

    init(capacity: Int) { rules.reserveCapacity(capacity) }

    var count: Int { rules.count }

    func set(_ left: UInt32, _ right: UInt32, rank: UInt32, id: UInt32) {
        rules[UInt64(left) << 32 | UInt64(right)] = UInt64(rank) << 32 | UInt64(id)
    }

    /// The lookup table, or an error naming `path` when an id is beyond the table's limit.
    func table(path: String) throws(TokenizerError) -> PairTable {
        var maxId: UInt32 = 0
        for (k, v) in rules { maxId = max(maxId, UInt32(truncatingIfNeeded: k >> 32), UInt32(truncatingIfNeeded: k), UInt32(truncatingIfNeeded: v)) }
        // Distinct values ≤ rules ≤ (ids below 2^21)², but a value index has 22 bits.
        guard Int(maxId) < PairTable.idLimit, rules.count <= 1 << 22 else {
            throw .invalidContent(path: path, location: "", message: "the merge rules use ids of \(PairTable.idLimit) or more (or more than 4,194,304 rules); finetok's merge table holds vocabularies of up to \(PairTable.idLimit) tokens")
        }
        return PairTable(self)
    }

    fileprivate func forEach(_ body: (UInt32, UInt32, UInt64) -> Void) {
        for (k, v) in rules { body(UInt32(truncatingIfNeeded: k >> 32), UInt32(truncatingIfNeeded: k), v) }
    }
}

/// The merge rules, read-only (see the top of the file).
final class PairTable: @unchecked Sendable {
    static let missing: UInt64 = .max
    /// Ids must be below this (the all-ones 21-bit value stays free, so no slot equals `.max`).
    static let idLimit = (1 << 21) - 1
    private static let valueBits: UInt64 = 22
    private static let valueMask: UInt64 = (1 << 22) - 1

    private let slots: UnsafeMutablePointer<UInt64>
    private let mask: Int
    /// `v` → `rank << 32 | id`; nil when `v` is the merged id and stands for its rank.
    private let values: UnsafeMutablePointer<UInt64>?
    let count: Int
    /// The Bloom filter of the rules' keys (see the top of the file).
    private let filter: UnsafeMutablePointer<UInt64>
    private let filterShift: UInt64
    /// Whether the merged id stands for the rank (no side table).
    var idsAreRanks: Bool { values == nil }

    /// No rules (a model whose rules are computed from its own lookups, then set).
    static let empty = PairTable(PairRules(capacity: 0))

    /// The table of `rules`, whose ids are below `idLimit` (`PairRules.table` checks).
    fileprivate init(_ rules: PairRules) {
        // Direct when walking the ranks in order meets strictly increasing ids: each rank has one
        // id, each id one rank, in the same order. Read from the values `rank << 32 | id`, sorted
        // (equal neighbours are one rank's one id); a dictionary of ranks and a sort of its keys
        // took ~100 M instructions for cl100k's 100k rules.
        var direct = true
        var ranked: [UInt64] = []
        ranked.reserveCapacity(rules.count)
        rules.forEach { _, _, v in ranked.append(v) }
        ranked.sort()
        for k in ranked.indices.dropFirst() where ranked[k] != ranked[k - 1] {
            // Another id at the same rank, or an id not above the previous rank's.
            if ranked[k] >> 32 == ranked[k - 1] >> 32 || UInt32(truncatingIfNeeded: ranked[k]) <= UInt32(truncatingIfNeeded: ranked[k - 1]) {
                direct = false
                break
            }
        }
        var index: [UInt64: UInt64] = [:]
        var distinct: [UInt64] = []
        if !direct {
            rules.forEach { _, _, v in
                if index[v] == nil { index[v] = UInt64(distinct.count); distinct.append(v) }
            }
        }
        var size = 16
        while size * 4 < rules.count * 5 { size <<= 1 }
        slots = .allocate(capacity: size)
        slots.initialize(repeating: .max, count: size)
        mask = size - 1
        count = rules.count
        if direct {
            values = nil
        } else {
            let p = UnsafeMutablePointer<UInt64>.allocate(capacity: max(distinct.count, 1))
            p.initialize(from: distinct, count: distinct.count)
            values = p
        }
        var words = 64
        while words * 64 < rules.count * 8 { words <<= 1 }
        filter = .allocate(capacity: words)
        filter.initialize(repeating: 0, count: words)
        filterShift = UInt64(64 - words.trailingZeroBitCount)
        rules.forEach { l, r, v in
            let k = PairTable.key(l, r)
            let (w, bits) = filterBits(k)
            filter[w] |= bits
            var i = home(k)
            while slots[i] != .max { i = (i &+ 1) & mask }
            let tag = direct ? v & 0xFFFF_FFFF : index[v] ?? 0
            slots[i] = k << PairTable.valueBits | tag
        }
    }

    deinit {
        slots.deallocate()
        values?.deallocate()
        filter.deallocate()
    }

    @inline(__always)
    private static func key(_ left: UInt32, _ right: UInt32) -> UInt64 { UInt64(left) << 21 | UInt64(right) }

    @inline(__always)
    private func home(_ k: UInt64) -> Int { Int(truncatingIfNeeded: mix64(k) >> 20) & mask }

    /// The filter's word and bits for a key.
    @inline(__always)
    private func filterBits(_ k: UInt64) -> (Int, UInt64) {
        let h = mix64(k), g = h &* 0xC2B2_AE3D_27D4_EB4F
        return (Int(truncatingIfNeeded: h &>> filterShift), 1 &<< (g &>> 58) | 1 &<< (g &>> 52 & 63))
    }

    /// False when the table has no rule for the pair (exact); true when it may have one.
    @inline(__always)
    func mayHave(_ left: UInt32, _ right: UInt32) -> Bool {
        let (w, bits) = filterBits(PairTable.key(left, right))
        return filter[w] & bits == bits
    }

    /// `rank << 32 | id` for the pair, or `PairTable.missing`. `left` and `right` are ids of the
    /// model (below `idLimit`) or `BPEModel.noId`, which matches nothing.
    @inline(__always)
    func get(_ left: UInt32, _ right: UInt32) -> UInt64 {
        let k = PairTable.key(left, right)
        var i = home(k)
        while true {
            let e = slots[i]
            if e == .max { return PairTable.missing }
            if e &>> PairTable.valueBits == k {
                let v = e & PairTable.valueMask
                guard let values else { return v << 32 | v }
                return values[Int(truncatingIfNeeded: v)]
            }
            i = (i &+ 1) & mask
        }
    }

    /// `get` behind the filter: a pair that the filter rules out costs no probe of the table.
    @inline(__always)
    func filteredGet(_ left: UInt32, _ right: UInt32) -> UInt64 {
        mayHave(left, right) ? get(left, right) : PairTable.missing
    }

    /// Calls `body(left, right)` for every rule (in table order).
    func forEachPair(_ body: (UInt32, UInt32) -> Void) {
        for i in 0...mask where slots[i] != .max {
            let k = slots[i] >> PairTable.valueBits
            body(UInt32(truncatingIfNeeded: k >> 21), UInt32(truncatingIfNeeded: k & 0x1F_FFFF))
        }
    }
}

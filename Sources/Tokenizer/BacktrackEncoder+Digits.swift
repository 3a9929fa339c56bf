// Long runs of digits in the backtracking encoder (BacktrackEncoder.swift).
//
// GPT-2's split pattern keeps `\p{N}+` whole (cl100k's and most later ones cap it at three
// digits), so a number of a million digits is one piece, and gpt2 has ~1,000 digit tokens that
// combine in ~1,000,000 pairs. Random digits check ~3.4 pairs a token and more than half of
// them are pairs the 16 K-slot validity cache has not kept, each a walk down two merge spines
// of dependent loads into tables of megabytes (the cache's slot, the pair filter, the pair
// table, the nodes). So in a piece of ASCII digits (after at most one leading space) the
// encoder reads the tokens of one to three digits from small dense tables instead:
//   - the longest token at a position: the value of the next three digits indexes `ids` (a
//     4.4 KB array over every string of one to three digits), falling back to two and one
//     digits; the trie is walked only where a token of four or more digits can start
//     (`extends`, one bit per four-digit string, 1.3 KB);
//   - the validity of a pair of such tokens: two bits in a thread's dense matrix over them
//     (gpt2: 887 tokens, 197 KB, so it stays in the L2 cache where a hashed cache of that many
//     pairs would not), filled the first time a pair is asked by the spine walk of
//     `BacktrackTables.isValidPair` run on the tokens' rows: their merge trees (`nodes`, 7 KB)
//     and the merge rules between them (`merges`, 16 KB), so the walk stays in the L1 cache.
// Each answers exactly what the trie and the walk answer (a token's spines hold only shorter
// digit tokens, and every rule between two of them is in `merges`); BacktrackEncoderTests
// compares the walks pair by pair and the encoder with the heap merge on digit runs.

/// The tokens of one to three ASCII digits in a backtracking trie, by arithmetic on the digits.
final class DigitTokens: @unchecked Sendable {
    /// Per digit string, by `index`: its token (`BPEModel.noId` when the trie has none).
    let ids: UnsafeMutablePointer<UInt32>
    /// Per digit string, by `index`: the token's row in the pair matrix (`UInt16.max` for none).
    let rows: UnsafeMutablePointer<UInt16>
    /// The tokens with a row: the matrix is `rowCount × rowCount` pairs.
    let rowCount: Int
    /// Bit v (a four-digit string's value): some token of four or more digits starts with
    /// those four.
    let extends: UnsafeMutablePointer<UInt64>
    /// Per row: the token's `BacktrackNode` with its halves as rows.
    let nodes: UnsafeMutablePointer<DigitNode>
    /// The merge rules between two rows: `(a << 16 | b) << 32 | crossing rank` (the rank + 1,
    /// as `BacktrackNode.rank`), open addressing, `.max` empty.
    private let merges: UnsafeMutablePointer<UInt64>
    private let mergeMask: Int

    struct DigitNode {
        var rank: UInt32 = 0
        var left: UInt16 = 0
        var right: UInt16 = 0
    }

    /// Strings of one, two and three digits: 10 + 100 + 1000.
    static let strings = 1110
    static let extendWords = (10_000 + 63) / 64
    /// Shorter pieces keep to the trie and the validity cache: the matrix is allocated (and
    /// zeroed) at a thread's first run of digits.
    static let minRun = 32

    /// The index of the digit string `p[0..<length]` (length 1–3, ASCII digits): strings of
    /// one digit first, then of two, then of three.
    @inline(__always)
    static func index(_ p: UnsafePointer<UInt8>, _ length: Int) -> Int {
        let d0 = Int(p[0] &- 0x30)
        if length == 1 { return d0 }
        let d1 = Int(p[1] &- 0x30)
        if length == 2 { return 10 &+ d0 &* 10 &+ d1 }
        return 110 &+ d0 &* 100 &+ d1 &* 10 &+ Int(p[2] &- 0x30)
    }

    /// The digit tokens of `trie` (whose tokens are `candidates`, with merge trees `tree` for
    /// ids below `tokenCount`), or nil when it has no token for some single digit (then the
    /// encoder uses the trie alone).
    init?(trie: TokenTrie, store: TokenStore, ids candidates: [UInt32], tree: UnsafePointer<BacktrackNode>,
          tokenCount: Int, pairs: PairTable) {
        let ids = UnsafeMutablePointer<UInt32>.allocate(capacity: Self.strings)
        let rows = UnsafeMutablePointer<UInt16>.allocate(capacity: Self.strings)
        var digits = [UInt8](repeating: 0, count: 3)
        var next = 0
        for length in 1...3 {
            var value = 0, limit = 1
            for _ in 0..<length { limit *= 10 }
            while value < limit {
                var v = value
                for k in stride(from: length - 1, through: 0, by: -1) { digits[k] = UInt8(0x30 + v % 10); v /= 10 }
                let (id, found) = digits.withUnsafeBufferPointer { trie.longestMatch($0.baseAddress!, length) }
                let i = digits.withUnsafeBufferPointer { Self.index($0.baseAddress!, length) }
                if found == length {
                    ids[i] = id
                    rows[i] = UInt16(next)
                    next += 1
                } else {
                    ids[i] = BPEModel.noId
                    rows[i] = .max
                }
                value += 1
            }
        }
        guard (0..<10).allSatisfy({ ids[$0] != BPEModel.noId }) else {
            ids.deallocate(); rows.deallocate()
            return nil
        }
        self.ids = ids
        self.rows = rows
        rowCount = next
        // Each token's row (.max for none), by id: the rules below are read for every token.
        var rowOf = [UInt16](repeating: .max, count: tokenCount)
        for i in 0..<Self.strings where rows[i] != .max { rowOf[Int(ids[i])] = rows[i] }
        nodes = .allocate(capacity: max(next, 1))
        for i in 0..<Self.strings where rows[i] != .max {
            let node = tree[Int(ids[i])]
            // A token's halves are shorter digit tokens of the trie (`BacktrackTables.build`
            // checks that halves are candidates), so they have rows.
            nodes[Int(rows[i])] = DigitNode(rank: node.rank, left: node.rank == 0 ? 0 : rowOf[Int(node.left)],
                                            right: node.rank == 0 ? 0 : rowOf[Int(node.right)])
        }
        var rules: [(UInt64, UInt32)] = []
        pairs.forEachPair { l, r in
            let a = Int(l) < tokenCount ? rowOf[Int(l)] : .max, b = Int(r) < tokenCount ? rowOf[Int(r)] : .max
            guard a != .max, b != .max else { return }
            let v = pairs.get(l, r)
            rules.append((UInt64(a) << 16 | UInt64(b), UInt32(truncatingIfNeeded: v >> 32) &+ 1))
        }
        var size = 16
        while size < 2 * rules.count { size *= 2 }
        merges = .allocate(capacity: size)
        merges.initialize(repeating: .max, count: size)
        mergeMask = size - 1
        for (key, rank) in rules {
            var i = Self.home(key) & mergeMask
            while merges[i] != .max { i = (i + 1) & mergeMask }
            merges[i] = key << 32 | UInt64(rank)
        }
        extends = .allocate(capacity: Self.extendWords)
        extends.initialize(repeating: 0, count: Self.extendWords)
        for id in candidates {
            let r = store.range(Int(id))
            guard r.count >= 4 else { continue }
            let p = store.bytes + r.lowerBound
            guard (0..<r.count).allSatisfy({ p[$0] &- 0x30 < 10 }) else { continue }
            let v = Int(p[0] - 0x30) * 1000 + Int(p[1] - 0x30) * 100 + Int(p[2] - 0x30) * 10 + Int(p[3] - 0x30)
            extends[v >> 6] |= 1 << UInt64(v & 63)
        }
    }

    deinit { ids.deallocate(); rows.deallocate(); extends.deallocate(); nodes.deallocate(); merges.deallocate() }

    @inline(__always)
    private static func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) &>> 40) }

    /// The crossing rank of the rule merging rows `a` and `b` (as `BacktrackNode.rank`), or 0.
    @inline(__always)
    func mergeRank(_ a: UInt16, _ b: UInt16) -> UInt32 {
        let key = UInt64(a) &<< 16 | UInt64(b)
        var i = Self.home(key) & mergeMask
        while true {
            let e = merges[i]
            if e == .max { return 0 }
            if e &>> 32 == key { return UInt32(truncatingIfNeeded: e) }
            i = (i &+ 1) & mergeMask
        }
    }

    /// `BacktrackTables.isValidPair` for the tokens of rows `a` then `b`, on the rows' tables.
    @inline(__always)
    func isValidPair(_ a: UInt16, _ b: UInt16) -> Bool {
        spinesAllowPair(a, b, crossing: mergeRank) { row in
            let node = nodes[Int(row)]
            return (node.rank, node.left, node.right)
        }
    }

    /// The validity of rows `a` then `b` through a thread's matrix (`MergeScratch.digitPairs`).
    @inline(__always)
    func isValidPair(_ a: UInt16, _ b: UInt16, matrix: UnsafeMutablePointer<UInt64>) -> Bool {
        let k = Int(a) &* rowCount &+ Int(b)
        let shift = UInt64(k & 31) &<< 1
        let known = matrix[k &>> 5] &>> shift & 3
        if known != 0 { return known == 1 }
        let ok = isValidPair(a, b)
        matrix[k &>> 5] |= (ok ? 1 : 2) &<< shift
        return ok
    }

    /// Where a piece's run of digits starts: 0 or 1 (after one space) when `p[0..<n]` is ASCII
    /// digits from there to its end, else nil.
    static func runStart(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int? {
        let start = p[0] == 0x20 ? 1 : 0
        var i = start
        while i < n {
            if p[i] &- 0x30 >= 10 { return nil }
            i &+= 1
        }
        return start
    }

    /// The longest token that is a prefix of the digits `p[0..<n]` (n ≥ 1) and its length: the
    /// trie's answer, from `ids` unless a token of four or more digits can start here.
    @inline(__always)
    func longestMatch(_ p: UnsafePointer<UInt8>, _ n: Int, trie: TokenTrie) -> (id: UInt32, length: Int) {
        if n >= 4 {
            let v = Int(p[0] &- 0x30) &* 1000 &+ Int(p[1] &- 0x30) &* 100 &+ Int(p[2] &- 0x30) &* 10 &+ Int(p[3] &- 0x30)
            if extends[v &>> 6] & (1 &<< UInt64(v & 63)) != 0 { return trie.longestMatch(p, n) }
        }
        var length = min(n, 3)
        while true {
            let id = ids[Self.index(p, length)]
            if id != BPEModel.noId || length == 1 { return (id, length) }
            length &-= 1
        }
    }
}

/// A piece that is a run of digits from `from` (0, or 1 after a space) to its end: the tokens
/// of one to three digits from `digits` and pairs of them from the thread's matrix; anything
/// else (the space, a token of four or more digits) from the trie.
struct DigitCandidates: BacktrackCandidates {
    let trie: TrieCandidates
    let digits: DigitTokens
    let matrix: UnsafeMutablePointer<UInt64>
    let from: Int

    @inline(__always)
    func longest(at pos: Int) -> (UInt32, Int) {
        if pos < from { return trie.longest(at: pos) }
        return digits.longestMatch(trie.p + pos, trie.n &- pos, trie: trie.bt.trie)
    }

    @inline(__always)
    func shorter(than token: UInt32, length: Int, at pos: Int) -> (UInt32, Int) {
        if pos < from || length > 3 { return trie.shorter(than: token, length: length, at: pos) }
        if length == 1 { return (BPEModel.noId, 0) }
        return digits.longestMatch(trie.p + pos, length &- 1, trie: trie.bt.trie)
    }

    @inline(__always)
    func isValid(_ t1: UInt32, _ t2: UInt32, at pos: Int, lastLength: Int, length: Int) -> Bool {
        let start = pos &- lastLength
        if start < from || lastLength | length > 3 {
            return trie.isValid(t1, t2, at: pos, lastLength: lastLength, length: length)
        }
        return digits.isValidPair(digits.rows[DigitTokens.index(trie.p + start, lastLength)],
                                  digits.rows[DigitTokens.index(trie.p + pos, length)], matrix: matrix)
    }
}

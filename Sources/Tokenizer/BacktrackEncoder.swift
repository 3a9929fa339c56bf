// Merging without merging: the backtracking BPE encoder (the algorithm of GitHub's `bpe` crate,
// rust-gems), linear in the length of the piece, with exactly the ids of rank-order merging.
//
// Why it is exact. BPE is deterministic, so every text has one encoding, and:
//   (a) a token sequence is "valid" when BPE of its bytes gives back exactly that sequence;
//   (b) any contiguous part of a valid sequence is valid (BPE never merged across its edges, and
//       restricted to the part it makes the same choices in the same order);
//   (c) if t1…tk is valid and the pair (tk, t) is valid, t1…tk t is valid (BPE of the whole can
//       only differ from the parts by a merge across the tk|t boundary, which (tk, t) excludes).
// So the encoding of a piece is the one sequence of tokens, each valid alone, whose adjacent
// pairs are all valid. The encoder builds it left to right: it appends the longest token that
// is a prefix of the rest (a trie walk, TokenTrie.swift), checks the pair it forms with the last
// token, and on failure tries the next shorter prefix token; when none works it pops the last
// token and marks its end as "not a boundary" in a bit set (sound by (b): the sequence before
// that position is the unique valid encoding of that prefix, so no encoding continues from
// there). Each position is given up at most once, so the work is O(n · L), L the longest
// token, whatever the text (a run of one letter, of digits, of spaces).
//
// Pair validity without merging. BPE of t1's bytes followed by t2's performs t1's own merges
// and t2's own merges, interleaved by rank, until some merge crosses the boundary. Only the
// symbols at the boundary can cross: the right spine of t1's merge tree (its last byte, …,
// t1) and the left spine of t2's. When, along the spines, the crossing pair (a, b) has a rank
// below the merge that would absorb a (strictly: that merge is to the left and wins ties) and
// not above the merge that would absorb b (that one is to the right and loses ties), BPE
// merges across: the pair is invalid. `isValidPair` walks the spines from the top down,
// taking apart the side whose top merge came last, as the `bpe` crate does; each token's last
// merge (its two halves) and rank are read at load from BPE of the token's own bytes.
//
// The walk over the spines assumes that a merge's rank is above the ranks of the merges that
// made its two halves — then the ranks BPE merges at never decrease, and "a merge happens
// before another" is "its rank is lower". Trained vocabularies have it (a merge is learnt
// after its parts exist; only a merge list with two merges giving the same token can break
// it); `BacktrackTables.build` checks it for every token and, if one fails, the model keeps
// the heap merge. It also checks that no two tokens share bytes. The bundled gpt2, pythia,
// dolma2, cl100k and qwen2 vocabularies all pass.
//
// Cost: each appended token is one trie walk (≤ L + 1 probes) and one validity check (a bit
// of an 8 KB table when both tokens are single bytes, else one probe of the thread's
// direct-mapped cache, else a walk down two spines, ≤ depth of the two merge trees); a
// position is given up at most once, so a piece costs O(n · L) whatever it holds. The heap
// merge is O(n log n) with a heap entry per merge; this is one pass with a bit per byte.
//
// The loop is written once (`backtrack`) over where its candidates and pair answers come from
// (`BacktrackCandidates`), specialized for each: the trie and the cache for any piece; for a
// run of digits, dense tables of the tokens of up to three digits
// (BacktrackEncoder+Digits.swift; gpt2's 1 MB of random digits: ~9 → 17–23 MB/s); for a long
// piece of three-byte characters, each character's own encoding pushed at once after a check
// of the junction (BacktrackEncoder+Characters.swift; 1 MB of random CJK: ~58 → ~150 MB/s with
// gpt2, ~45 → ~130 with cl100k; benchmarks/README.md, seventeenth pass). Before the pair
// cache, a check asks whether any token has the two bytes that meet (`adjacentBytes`): when
// none does, nothing can merge across.
//
// Used for the byte-level pieces of more than 24 bytes, and of more than 8 when they end in a
// non-ASCII byte (Chinese and other non-Latin scripts; BPEMerge.swift). A byte without
// a token (GPT-NeoX has none for 0xC0, 0xC1, 0xF5–0xFF) starts no token: such a piece goes to
// `mergeWithUnknownBytes`, which encodes the runs of known bytes on their own, as HF does.
// BacktrackEncoderTests compares it with the heap merge on random pieces for gpt2, pythia,
// cl100k and qwen2 (HF merge lists and tiktoken ranks), on the worst cases, and on random
// small merge lists.

import Dispatch
import Synchronization

/// What the backtracking encoder reads about one token, in one 16-byte record: the validity
/// walk reads a token's rank and then one of its halves, and a failed check its next shorter
/// prefix, so one cache line per token instead of one in each of three arrays (digits and
/// Chinese text miss the cache on most of these reads).
struct BacktrackNode {
    /// 1 + the rank of the merge that makes the token; 0 for a single byte.
    var rank: UInt32 = 0
    /// Its two halves in BPE of its own bytes (0 for a byte).
    var left: UInt32 = 0
    var right: UInt32 = 0
    /// The longest candidate token that is a proper prefix of it, or `noId`.
    var shorter: UInt32 = BPEModel.noId
}

/// The backtracking tables of a model, built on a background thread: they are a third of
/// gpt2's load (~80 ms of 250: the trie and a merge of every token), and many runs need them
/// late or never (a short text, a dataset of short rows). Until they are built, long pieces
/// are merged with the heap, and only a piece over 1 KB waits for them; the ids never depend
/// on the timing.
final class BacktrackSlot: @unchecked Sendable {
    private let done = DispatchGroup()
    /// Written once on the background thread before `ready` is set and `done` is left; read
    /// only after either.
    private var built: BacktrackTables?
    private let ready = Atomic<Bool>(false)

    convenience init(building model: BPEModel) {
        self.init { BacktrackTables.build(model: model) }
    }

    /// Runs `build` on a background thread.
    init(_ build: @escaping @Sendable () -> BacktrackTables?) {
        done.enter()
        DispatchQueue.global().async {
            self.built = build()
            self.ready.store(true, ordering: .releasing)
            self.done.leave()
        }
    }

    /// The tables, or nil when the model fails their checks (see `BacktrackTables.build`);
    /// waits for them.
    var tables: BacktrackTables? {
        done.wait()
        return built
    }

    /// The tables for a piece of `n` bytes: until they are built, nil for a piece of up to
    /// `waitAbove` bytes, so the encoder merges it with the heap (the same ids) instead of
    /// stalling for the rest of the load (~50 ms for gpt2, ~0.1 s for cl100k) at the first
    /// long piece; a longer piece waits, since the heap is O(n log n) (a 1 MB run of one letter
    /// took it ~0.5 s).
    @inline(__always)
    func tables(forPiece n: Int) -> BacktrackTables? {
        if ready.load(ordering: .acquiring) || n > Self.waitAbove { return tables }
        return nil
    }

    static let waitAbove = 1024
}

/// The tables of the backtracking encoder for one model.
final class BacktrackTables: @unchecked Sendable {
    let trie: TokenTrie
    /// Per token id.
    let nodes: UnsafeMutablePointer<BacktrackNode>
    let count: Int
    /// Bit `a << 8 | b`: whether the pair of the single-byte tokens of bytes a and b is valid
    /// (`isValidPair`, asked once per pair at build). 8 KB, so it stays in the L1 cache where
    /// the thread's validity cache (128 KB) does not: Chinese and other non-Latin text in a
    /// vocabulary with few tokens for its characters is mostly single-byte tokens (random CJK
    /// with gpt2: 0.9 tokens a byte, 79% of the pairs checked are two single bytes), and that
    /// probe was a quarter of the encoder's samples there.
    let singleBytePairs: UnsafeMutablePointer<UInt64>
    /// Bit `a << 8 | b`: some token has byte a followed by byte b. When the last byte of t1 and
    /// the first of t2 are not such a pair, no merge can cross between them, so (t1, t2) is
    /// valid whatever the tokens (8 KB). With gpt2, 12 of the 384 pairs of a continuation byte
    /// and a Chinese lead byte (E4–E9) are in some token; with cl100k, 157.
    let adjacentBytes: UnsafeMutablePointer<UInt64>
    /// Each byte's token (`BPEModel.noId` for none).
    let byteTokens: UnsafeMutablePointer<UInt32>
    /// Each three-byte character's tokens, by its 16 payload bits (256 KB;
    /// BacktrackEncoder+Characters.swift).
    let characters: UnsafeMutablePointer<UInt32>
    /// Where two three-byte characters meet (…, c1, c2 | l, d1, …: c and d continuation bytes,
    /// l a lead byte E0–EF), the byte triples some token has: bit `c1 c2 l` (6 + 6 + 4 bits) in
    /// the first 65,536, bit `c2 l d1` in the second (16 KB; see `mayMergeAcross`).
    let junctionTriples: UnsafeMutablePointer<UInt64>
    /// The tokens of one to three digits, for long runs of digits (BacktrackEncoder+Digits.swift).
    let digits: DigitTokens?

    private init(trie: TokenTrie, nodes: [BacktrackNode], digits: DigitTokens?, byteIds: [UInt32]) {
        self.trie = trie
        self.digits = digits
        count = nodes.count
        self.nodes = .allocate(capacity: count)
        self.nodes.initialize(from: nodes, count: count)
        singleBytePairs = .allocate(capacity: 1024)
        singleBytePairs.initialize(repeating: 0, count: 1024)
        adjacentBytes = .allocate(capacity: 1024)
        adjacentBytes.initialize(repeating: 0, count: 1024)
        byteTokens = .allocate(capacity: 256)
        byteTokens.initialize(from: byteIds, count: 256)
        characters = .allocate(capacity: 1 << 16)
        junctionTriples = .allocate(capacity: 2048)
        junctionTriples.initialize(repeating: 0, count: 2048)
    }

    @inline(__always) private static func isContinuation(_ b: UInt8) -> Bool { b & 0xC0 == 0x80 }
    @inline(__always) private static func isThreeByteLead(_ b: UInt8) -> Bool { b & 0xF0 == 0xE0 }

    /// The bit of `junctionTriples` for continuation, continuation, lead bytes `c1 c2 l`.
    @inline(__always) private static func tripleBefore(_ c1: UInt8, _ c2: UInt8, _ l: UInt8) -> Int {
        Int(c1 & 0x3F) &<< 10 | Int(c2 & 0x3F) &<< 4 | Int(l & 0x0F)
    }

    /// The bit of `junctionTriples` for continuation, lead, continuation bytes `c2 l d1`.
    @inline(__always) private static func tripleAfter(_ c2: UInt8, _ l: UInt8, _ d1: UInt8) -> Int {
        1 &<< 16 | Int(c2 & 0x3F) &<< 10 | Int(l & 0x0F) &<< 6 | Int(d1 & 0x3F)
    }

    /// The bits of `junctionTriples` for three bytes of a token, if they have either shape.
    private func setJunctionTriple(_ x: UInt8, _ y: UInt8, _ z: UInt8) {
        var k = -1
        if Self.isContinuation(x) && Self.isContinuation(y) && Self.isThreeByteLead(z) {
            k = Self.tripleBefore(x, y, z)
        } else if Self.isContinuation(x) && Self.isThreeByteLead(y) && Self.isContinuation(z) {
            k = Self.tripleAfter(x, y, z)
        }
        if k >= 0 { junctionTriples[k >> 6] |= 1 << UInt64(k & 63) }
    }

    /// Whether BPE may merge across the boundary between two three-byte characters, the bytes
    /// `c1 c2` before it and `l d1` after it (the shapes are checked here). False is exact: a
    /// merge across makes a token of a suffix of the tokens before and a prefix of those after,
    /// so a token with `c1 c2 l`, or with `c2 l d1`, or the two bytes `c2 l` merged as bytes.
    @inline(__always)
    func mayMergeAcross(_ c1: UInt8, _ c2: UInt8, _ l: UInt8, _ d1: UInt8) -> Bool {
        guard Self.isContinuation(c1), Self.isContinuation(c2), Self.isThreeByteLead(l), Self.isContinuation(d1),
              isValidSingleBytePair(c2, l) else { return true }
        let k1 = Self.tripleBefore(c1, c2, l), k2 = Self.tripleAfter(c2, l, d1)
        return junctionTriples[k1 &>> 6] & (1 &<< UInt64(k1 & 63)) != 0
            || junctionTriples[k2 &>> 6] & (1 &<< UInt64(k2 & 63)) != 0
    }

    deinit {
        nodes.deallocate(); singleBytePairs.deallocate(); adjacentBytes.deallocate(); byteTokens.deallocate()
        characters.deallocate(); junctionTriples.deallocate()
    }

    /// Whether some token has byte `a` followed by byte `b`.
    @inline(__always)
    func areAdjacentInSomeToken(_ a: UInt8, _ b: UInt8) -> Bool {
        let k = Int(a) &<< 8 | Int(b)
        return adjacentBytes[k &>> 6] & (1 &<< UInt64(k & 63)) != 0
    }

    /// Whether the single-byte tokens of bytes `a` then `b` form a valid pair (both have tokens).
    @inline(__always)
    func isValidSingleBytePair(_ a: UInt8, _ b: UInt8) -> Bool {
        let k = Int(a) &<< 8 | Int(b)
        return singleBytePairs[k &>> 6] & (1 &<< UInt64(k & 63)) != 0
    }

    /// The tables for `model`, or nil when the backtracking encoder would not be exact for it
    /// (two tokens with the same bytes, a merge ranked below one of its halves' merges) or the
    /// vocabulary is too large for its tables (2^31 ids, 2^24 bytes of tokens).
    /// - Complexity: one merge of every token's bytes: ~10–40 ms for 50k–150k tokens.
    static func build(model: BPEModel) -> BacktrackTables? {
        let store = model.tokens
        let n = store.count
        // Ids below 2^31: the validity cache keeps a flag in bit 63 of `t1 << 32 | t2`.
        guard n < 1 << 31 else { return nil }
        var nodes = [BacktrackNode](repeating: BacktrackNode(), count: n)
        var candidate = [Bool](repeating: false, count: n)
        // A byte without a token is left out of the trie (see the top of the file).
        for b in 0..<256 where model.byteIds[b] != BPEModel.noId {
            candidate[Int(model.byteIds[b])] = true
        }
        // Each token's last merge in BPE of its own bytes. Shorter tokens first is not needed:
        // the merge reads only the pair table.
        let scratch = MergeScratch()
        for id in 0..<n where store.present[id] {
            let r = store.range(id)
            if r.count < 2 { continue }
            let p = store.bytes + r.lowerBound
            guard let (l, rt) = model.lastMerge(p, r.count, scratch: scratch) else { continue }
            let v = model.pairs.get(l, rt)
            guard v != PairTable.missing, UInt32(truncatingIfNeeded: v) == UInt32(id) else { continue }
            let k = UInt32(truncatingIfNeeded: v >> 32)
            guard k < UInt32.max - 1 else { return nil }
            candidate[id] = true
            nodes[id].left = l
            nodes[id].right = rt
            nodes[id].rank = k + 1
        }
        // Ranks must grow toward the root of every merge tree.
        for id in 0..<n where candidate[id] && nodes[id].rank > 0 {
            let l = Int(nodes[id].left), r = Int(nodes[id].right)
            guard candidate[l], candidate[r], nodes[l].rank < nodes[id].rank, nodes[r].rank < nodes[id].rank else { return nil }
        }
        let ids = (0..<n).filter { candidate[$0] }.map { UInt32($0) }
        guard let trie = TokenTrie(store: store, ids: ids) else { return nil }
        // Two candidates with the same bytes share a trie node: refuse.
        for id in ids {
            let r = store.range(Int(id))
            let p = store.bytes + r.lowerBound
            if trie.longestPrefix(p, r.count) != id { return nil }
            if r.count > 1 { nodes[Int(id)].shorter = trie.longestPrefix(p, r.count - 1) }
        }
        let digits = nodes.withUnsafeBufferPointer { tree -> DigitTokens? in
            guard let base = tree.baseAddress else { return nil }
            return DigitTokens(trie: trie, store: store, ids: ids, tree: base, tokenCount: n, pairs: model.pairs)
        }
        let tables = BacktrackTables(trie: trie, nodes: nodes, digits: digits, byteIds: model.byteIds)
        characterEntries(byteIds: model.byteIds, bytePairs: model.bytePairs, pairs: model.pairs, into: tables.characters)
        for id in 0..<n where store.present[id] {
            let r = store.range(id)
            guard r.count >= 2 else { continue }
            let p = store.bytes + r.lowerBound
            for i in 0..<(r.count - 1) {
                let k = Int(p[i]) << 8 | Int(p[i + 1])
                tables.adjacentBytes[k >> 6] |= 1 << UInt64(k & 63)
                if i + 2 < r.count { tables.setJunctionTriple(p[i], p[i + 1], p[i + 2]) }
            }
        }
        for a in 0..<256 where model.byteIds[a] != BPEModel.noId {
            for b in 0..<256 where model.byteIds[b] != BPEModel.noId
                && tables.isValidPair(model.byteIds[a], model.byteIds[b], model.pairs) {
                let k = a << 8 | b
                tables.singleBytePairs[k >> 6] |= 1 << UInt64(k & 63)
            }
        }
        return tables
    }

    /// Whether BPE of the bytes of `t1` then `t2` gives `[t1, t2]` (see the top of the file).
    @inline(__always)
    func isValidPair(_ t1: UInt32, _ t2: UInt32, _ pairs: PairTable) -> Bool {
        spinesAllowPair(t1, t2) { a, b in
            let v = pairs.filteredGet(a, b)
            return v == PairTable.missing ? 0 : UInt32(truncatingIfNeeded: v &>> 32) &+ 1
        } node: { t in
            let node = nodes[Int(t)]
            return (node.rank, node.left, node.right)
        }
    }

    var byteCount: Int { trie.byteCount + count * MemoryLayout<BacktrackNode>.stride + 2 * 1024 * 8 + 256 * 4 + (1 << 16) * 4 + 2048 * 8 }
}

/// The walk down the spines of `isValidPair` (see the top of the file), over any numbering of
/// the tokens: `crossing(a, b)` is the rank + 1 of the rule merging a then b (0 for none),
/// `node(t)` the rank + 1 of the merge that makes t (0 for a byte) and its two halves. Used on
/// token ids with the model's tables, and on the digit tables' rows (BacktrackEncoder+Digits).
@inline(__always)
func spinesAllowPair<T>(_ t1: T, _ t2: T, crossing: (T, T) -> UInt32,
                        node: (T) -> (rank: UInt32, left: T, right: T)) -> Bool {
    var a = t1, b = t2
    var leftLimit = UInt32.max, rightLimit = UInt32.max
    while true {
        let c = crossing(a, b)
        if c != 0 && c < leftLimit && c <= rightLimit { return false }
        let na = node(a), nb = node(b)
        if na.rank == 0 && nb.rank == 0 { return true }
        if na.rank > nb.rank {
            leftLimit = na.rank
            a = na.right
        } else {
            rightLimit = nb.rank
            b = nb.left
        }
    }
}

extension BPEModel {
    /// The two symbols before the last merge of BPE of `p[0..<n]` (n ≥ 2), or nil if the merge
    /// ends with more than two symbols.
    func lastMerge(_ p: UnsafePointer<UInt8>, _ n: Int, scratch: MergeScratch) -> (UInt32, UInt32)? {
        scratch.reserve(n)
        let ids = scratch.ids, ranks = scratch.ranks
        for i in 0..<n {
            let id = byteIds[Int(p[i])]
            if id == BPEModel.noId { return nil }
            ids[i] = id
        }
        for i in 0..<(n - 1) { ranks[i] = bytePairs.values[Int(p[i]) << 8 | Int(p[i + 1])] }
        let count = n <= shortPieceLimit ? mergeShort(n, scratch: scratch, tiesByPosition: false, until: 2)
                                         : mergeLong(n, scratch: scratch, until: 2)
        return count == 2 ? (ids[0], ids[1]) : nil
    }

    /// The backtracking encoder: writes the ids of `p[0..<n]` (n ≥ 2) to `dst`, which has room
    /// for n ids; returns the count. Exactly the heap merge's ids (`mergeWithHeap`); a piece
    /// with a byte that has no token goes to `mergeWithUnknownBytes`.
    /// - Complexity: O(n · L) for the longest token length L.
    func encodeBacktracking(_ p: UnsafePointer<UInt8>, _ n: Int, dst: UnsafeMutablePointer<UInt32>,
                            scratch: MergeScratch, _ bt: BacktrackTables) -> Int {
        scratch.bindValidity(to: bt)
        let trie = TrieCandidates(p: p, n: n, bt: bt, scratch: scratch, pairs: pairs, offsets: tokens.offsets)
        if n >= DigitTokens.minRun, let digits = bt.digits, let from = DigitTokens.runStart(p, n) {
            let run = DigitCandidates(trie: trie, digits: digits, matrix: scratch.digitPairs(for: digits), from: from)
            return backtrack(run, p, n, dst: dst, scratch: scratch)
        }
        if n >= CharacterCandidates.minRun && p[n &- 1] >= 0x80 && bt.count <= CharacterCandidates.idLimit {
            let run = CharacterCandidates(trie: trie, pushed: scratch.clearedBlockBits(n + 1))
            return backtrack(run, p, n, dst: dst, scratch: scratch)
        }
        return backtrack(trie, p, n, dst: dst, scratch: scratch)
    }

    /// The loop of the encoder (see the top of the file), on the candidates and pair answers
    /// of `c`.
    @inline(__always)
    private func backtrack<C: BacktrackCandidates>(_ c: C, _ p: UnsafePointer<UInt8>, _ n: Int,
                                                   dst: UnsafeMutablePointer<UInt32>, scratch: MergeScratch) -> Int {
        let dead = scratch.clearedBits(n + 1)
        let offsets = tokens.offsets
        @inline(__always) func byteLength(_ t: UInt32) -> Int { Int(offsets[Int(t) &+ 1] &- offsets[Int(t)]) }
        var count = 0
        var pos = 0
        // The length in bytes of the last token, dst[count - 1] (0 when there is none).
        var lastLength = 0
        // The highest position given up (-1 for none): no token ending after it is refused.
        var lastGivenUp = -1
        // The candidate token at `pos` and its length in bytes.
        var (token, length) = c.longest(at: 0)
        while true {
            // Only a byte without a token starts no token (every other byte is one).
            if token == BPEModel.noId { return mergeWithUnknownBytes(p, n, dst: dst, scratch: scratch) }
            let end = pos &+ length
            if dead[end &>> 6] & (1 &<< UInt64(end & 63)) == 0
                && (count == 0 || c.isValid(dst[count &- 1], token, at: pos, lastLength: lastLength, length: length)) {
                dst[count] = token
                count &+= 1
                lastLength = length
                pos = end
                if C.hasBlocks {
                    (pos, count, lastLength) = c.blocks(from: pos, count: count, lastLength: lastLength, dst: dst,
                                                        dead: dead, lastGivenUp: lastGivenUp)
                }
                if pos == n { return count }
                (token, length) = c.longest(at: pos)
                continue
            }
            let (shorter, shorterLength) = c.shorter(than: token, length: length, at: pos)
            if shorter != BPEModel.noId {
                token = shorter
                length = shorterLength
                continue
            }
            // No token continues a valid encoding from `pos`: it is not a boundary.
            dead[pos &>> 6] |= 1 &<< UInt64(pos & 63)
            if pos > lastGivenUp { lastGivenUp = pos }
            guard count > 0 else {
                // Impossible for a vocabulary that passed `build`'s checks (and with characters
                // pushed at once, for the restart of their positions below); stay exact anyway.
                scratch.searchesGivenUp &+= 1
                return mergeWithHeap(p, n, dst: dst, scratch: scratch)
            }
            count &-= 1
            token = dst[count]
            length = byteLength(token)
            pos &-= length
            lastLength = count > 0 ? byteLength(dst[count &- 1]) : 0
            // A token pushed with its character: this position's candidates were never tried
            // in order, so try them from the longest (BacktrackEncoder+Characters.swift).
            if C.hasBlocks && c.poppedFromBlock(at: pos) { (token, length) = c.longest(at: pos) }
        }
    }
}

/// Where the encoder's loop gets its candidate tokens and its answers about pairs.
protocol BacktrackCandidates {
    /// The longest token that is a prefix of the piece from `pos`, and its length in bytes
    /// (`BPEModel.noId` when its byte has no token).
    func longest(at pos: Int) -> (UInt32, Int)
    /// The longest token at `pos` shorter than `token` (of `length` bytes), or `BPEModel.noId`.
    func shorter(than token: UInt32, length: Int, at pos: Int) -> (UInt32, Int)
    /// Whether `t1` (the `lastLength` bytes before `pos`) then `t2` (`length` bytes from `pos`)
    /// form a valid pair.
    func isValid(_ t1: UInt32, _ t2: UInt32, at pos: Int, lastLength: Int, length: Int) -> Bool
    /// Whether `blocks` can push anything (the loop leaves it out when not).
    static var hasBlocks: Bool { get }
    /// Pushes whole characters from `pos` (the sequence `dst[0..<count]` ends there, its last
    /// token `lastLength` bytes long) while each one's tokens are a valid sequence after the
    /// last token and none ends at a position given up in `dead` (none after `lastGivenUp`);
    /// returns the new position, count and last length.
    func blocks(from pos: Int, count: Int, lastLength: Int, dst: UnsafeMutablePointer<UInt32>,
                dead: UnsafeMutablePointer<UInt64>, lastGivenUp: Int) -> (pos: Int, count: Int, lastLength: Int)
    /// Whether the token at `pos`, just popped, was pushed by `blocks` (and forgets it).
    func poppedFromBlock(at pos: Int) -> Bool
}

extension BacktrackCandidates {
    static var hasBlocks: Bool { false }
    func blocks(from pos: Int, count: Int, lastLength: Int, dst: UnsafeMutablePointer<UInt32>,
                dead: UnsafeMutablePointer<UInt64>, lastGivenUp: Int) -> (pos: Int, count: Int, lastLength: Int) {
        (pos, count, lastLength)
    }
    func poppedFromBlock(at pos: Int) -> Bool { false }
}

/// Any piece: the trie, each token's next shorter prefix, the single-byte pair table and the
/// thread's validity cache.
struct TrieCandidates: BacktrackCandidates {
    let p: UnsafePointer<UInt8>
    let n: Int
    let bt: BacktrackTables
    let scratch: MergeScratch
    let pairs: PairTable
    let offsets: UnsafeMutablePointer<UInt32>

    @inline(__always)
    func longest(at pos: Int) -> (UInt32, Int) { bt.trie.longestMatch(p + pos, n &- pos) }

    @inline(__always)
    func shorter(than token: UInt32, length: Int, at pos: Int) -> (UInt32, Int) {
        let s = bt.nodes[Int(token)].shorter
        if s == BPEModel.noId { return (s, 0) }
        return (s, Int(offsets[Int(s) &+ 1] &- offsets[Int(s)]))
    }

    @inline(__always)
    func isValid(_ t1: UInt32, _ t2: UInt32, at pos: Int, lastLength: Int, length: Int) -> Bool {
        let a = p[pos &- 1], b = p[pos]
        if !bt.areAdjacentInSomeToken(a, b) { return true }
        if lastLength == 1 && length == 1 { return bt.isValidSingleBytePair(a, b) }
        return scratch.isValidPair(t1, t2, bt, pairs)
    }
}

extension MergeScratch {
    /// Pair validity through the thread's cache: one probe for pairs seen before.
    @inline(__always)
    func isValidPair(_ t1: UInt32, _ t2: UInt32, _ bt: BacktrackTables, _ pairs: PairTable) -> Bool {
        let key = UInt64(t1) &<< 32 | UInt64(t2)
        let slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) &>> UInt64(64 - MergeScratch.validityBits))
        let v = validity[slot]
        if v & ~MergeScratch.validBit == key { return v & MergeScratch.validBit != 0 }
        let ok = bt.isValidPair(t1, t2, pairs)
        validity[slot] = key | (ok ? MergeScratch.validBit : 0)
        return ok
    }
}

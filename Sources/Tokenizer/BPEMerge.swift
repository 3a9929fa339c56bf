// The hot loop: byte-pair merging of one pre-token.
//
// A pre-token starts as one id per byte. Repeatedly, the adjacent pair with the lowest merge rank
// is replaced by its merged id; among equal ranks the leftmost pair goes first. This is exactly
// HF `tokenizers`' BPE (ranks from merges.txt order) and tiktoken's `byte_pair_encode` (the rank
// of a pair is the rank of the concatenated bytes, which the loader turns into pair rules).
//
// Per piece, cheapest first (EncodingContext.swift, EncodingContext+Split.swift):
//   1. a piece of ≤ 8 bytes: the thread's hot cache (PieceCache.swift), whatever it holds;
//   2. one byte → its id;
//   3. the piece is itself a token → that id, when the reference would give it too (tiktoken and
//      HF `ignore_merges` always; otherwise only tokens marked self-merging at load);
//   3b. the thread's second-level piece cache;
//   4. a merge:
//      - up to `shortPieceLimit` (24) bytes: a flat array of packed pair ranks, scanned for the minimum
//        at each step and patched in place after a merge. O(n²) in theory, but n is small, the
//        arrays stay in L1 and there is no heap bookkeeping; natural-text pieces are < 16 bytes.
//        The two pairs a merge makes are looked up behind the pair table's filter: a cold piece
//        of en (~9 bytes, ~6 merges) waits on the L2 cache at each step, not on its instructions
//        (the table is 0.5–1 MB), and a third of those pairs are not rules (PairTable.swift).
//      - longer, or longer than `scriptPieceLimit` (8) bytes and ending in a non-ASCII byte, for
//        byte-level models whose merge list allows it (all the bundled ones): the backtracking
//        encoder, O(n · L) for any piece (BacktrackEncoder.swift).
//      - longer, other models: a doubly linked list of symbols and a binary heap of candidate
//        merges keyed by (rank, position), stale entries skipped on pop: O(n log n). A 1 MB run
//        of one letter is a single pre-token and must not be quadratic.
// The limits were measured with `finetok bench` and cachegrind. Latin-script pieces merge
// fastest with the scan: backtracking every piece ran en at ~60% of the scan's speed, and
// moving the limit from 24 to 8 bytes cost en/cl100k 7% and code/gpt2 8% (cachegrind's cycle
// estimate). Chinese pieces (3 bytes a character, few merges that hit) are the other way
// round: 8 instead of 24 saved zh 9–10%, and in alternating runs on one CPU zh/cl100k went
// from 16.2 to 24.5 MB/s in the median with the trie and filter changes of the same commit.
// The last byte tells the two apart without a scan. Either side gives identical ids, which the
// tests check on lengths around both limits.

let shortPieceLimit = 24
let scriptPieceLimit = 8

/// Scratch buffers reused across pieces by one encoding thread (raw memory: no bounds or
/// exclusivity checks in the loops below).
final class MergeScratch {
    struct HeapEntry {
        /// `rank << 32 | position`: the min-heap order (lowest rank, then leftmost).
        var key: UInt64
        var left: UInt32
        var right: UInt32
        var merged: UInt32
    }

    private(set) var capacity = 0
    private(set) var ids: UnsafeMutablePointer<UInt32> = .allocate(capacity: 1)
    private(set) var ranks: UnsafeMutablePointer<UInt64> = .allocate(capacity: 1)
    private(set) var next: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    private(set) var prev: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    private(set) var heap: UnsafeMutablePointer<HeapEntry> = .allocate(capacity: 1)
    /// The backtracking encoder's bit set of positions given up (BacktrackEncoder.swift).
    private var bits: UnsafeMutablePointer<UInt64> = .allocate(capacity: 64)
    private var bitWords = 64
    /// Pair validity seen by the backtracking encoder: `t1 << 32 | t2`, with `validBit` set when
    /// valid; direct-mapped, 16,384 slots (128 KB). Ids are below 2^31 (`BacktrackTables.build`
    /// checks), so the bit never collides with a key.
    let validity: UnsafeMutablePointer<UInt64>
    static let validityBits = 14
    static let validBit: UInt64 = 1 << 63
    /// The tables whose answers `validity` holds: a scratch used with another model forgets them
    /// (a strong reference, so that a freed and reallocated table can never look the same).
    private var validityTables: BacktrackTables?
    /// The validity of pairs of tokens of one to three digits (BacktrackEncoder+Digits.swift):
    /// two bits a pair, row by row (0 not yet asked, 1 valid, 2 not), allocated at the first
    /// digit run of the tables `validity` is bound to.
    private(set) var digitPairs: UnsafeMutablePointer<UInt64>?
    /// The backtracking encoder's second bit set: positions where a character's tokens were
    /// pushed at once.
    private var blockBits: UnsafeMutablePointer<UInt64> = .allocate(capacity: 64)
    private var blockBitWords = 64
    /// Pieces the backtracking encoder gave up on and merged with the heap (none, if it is
    /// right; the tests check).
    var searchesGivenUp = 0

    init() {
        validity = .allocate(capacity: 1 << MergeScratch.validityBits)
        validity.initialize(repeating: .max, count: 1 << MergeScratch.validityBits)
        reserve(256)
    }

    deinit {
        ids.deallocate(); ranks.deallocate(); next.deallocate(); prev.deallocate(); heap.deallocate()
        bits.deallocate(); validity.deallocate(); digitPairs?.deallocate()
        blockBits.deallocate()
    }

    /// Makes `validity` hold answers for `tables` only.
    @inline(__always)
    func bindValidity(to tables: BacktrackTables) {
        if validityTables === tables { return }
        validity.update(repeating: .max, count: 1 << MergeScratch.validityBits)
        validityTables = tables
        digitPairs?.deallocate()
        digitPairs = nil
    }

    /// The digit pair matrix for `digits` (of the bound tables), all "not yet asked" at first.
    func digitPairs(for digits: DigitTokens) -> UnsafeMutablePointer<UInt64> {
        if let m = digitPairs { return m }
        let words = (digits.rowCount * digits.rowCount + 31) / 32
        let m = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
        m.initialize(repeating: 0, count: words)
        digitPairs = m
        return m
    }

    /// A bit set of at least `n` bits, all clear.
    @inline(__always)
    func clearedBits(_ n: Int) -> UnsafeMutablePointer<UInt64> {
        MergeScratch.cleared(&bits, &bitWords, n)
    }

    /// A second bit set of at least `n` bits, all clear (the first stays as it is).
    @inline(__always)
    func clearedBlockBits(_ n: Int) -> UnsafeMutablePointer<UInt64> {
        MergeScratch.cleared(&blockBits, &blockBitWords, n)
    }

    @inline(__always)
    private static func cleared(_ bits: inout UnsafeMutablePointer<UInt64>, _ capacity: inout Int, _ n: Int) -> UnsafeMutablePointer<UInt64> {
        let words = (n &+ 63) &>> 6
        if words > capacity {
            bits.deallocate()
            capacity = max(words, 2 * capacity)
            bits = .allocate(capacity: capacity)
        }
        bits.update(repeating: 0, count: words)
        return bits
    }

    @inline(__always)
    func reserve(_ n: Int) {
        guard n > capacity else { return }
        var c = max(capacity, 256)
        while c < n { c *= 2 }
        ids.deallocate(); ranks.deallocate(); next.deallocate(); prev.deallocate(); heap.deallocate()
        ids = .allocate(capacity: c)
        ranks = .allocate(capacity: c)
        next = .allocate(capacity: c)
        prev = .allocate(capacity: c)
        // Each merge pushes at most two entries: n initial + 2n.
        heap = .allocate(capacity: 3 * c)
        capacity = c
    }
}

extension BPEModel {
    /// Writes the ids of one pre-token `p[0..<n]` (raw bytes, n ≥ 1) to `dst`, which has room
    /// for n ids, with steps 1, 2 and 4 above; returns how many it wrote.
    @inline(__always)
    func encodePiece(_ p: UnsafePointer<UInt8>, _ n: Int, dst: UnsafeMutablePointer<UInt32>, scratch: MergeScratch) -> Int {
        if n == 1 { return encodeByte(p[0], dst: dst) }
        if let id = wholeToken(p, n) { dst[0] = id; return 1 }
        return merge(p, n, dst: dst, scratch: scratch)
    }

    /// The id of a one-byte piece (0 or 1 ids written).
    @inline(__always)
    func encodeByte(_ b: UInt8, dst: UnsafeMutablePointer<UInt32>) -> Int {
        let id = byteIds[Int(b)]
        if id != BPEModel.noId { dst[0] = id; return 1 }
        return unknownByte(b, dst: dst, previous: BPEModel.noId)
    }

    /// The piece's id when the piece is one token that the reference would emit as is.
    @inline(__always)
    func wholeToken(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32? {
        if n <= 16 {
            let id = n <= 8 ? shortTokens.get(p, n) : mediumTokens.get(p, n)
            return id == BytesToId.empty ? nil : id
        }
        let id = lookup.get(p, n)
        if id == BytesToId.empty { return nil }
        if wholePieceFirst || selfMerging[Int(id)] { return id }
        return nil
    }

    /// The merge of `p[0..<n]` (n ≥ 2) written to `dst` (room for n ids); returns the count.
    @inline(__always)
    func merge(_ p: UnsafePointer<UInt8>, _ n: Int, dst: UnsafeMutablePointer<UInt32>, scratch: MergeScratch) -> Int {
        // Short pieces (most of them) are fastest with the flat scan; long ones, and Chinese and
        // other non-Latin ones from 9 bytes, go to the backtracking encoder, linear in the piece
        // (see the top of the file; gpt2's 1 MB run of one letter went from 4 to ~150 MB/s).
        if n > shortPieceLimit || (n > scriptPieceLimit && p[n &- 1] >= 0x80), let bt = backtrack?.tables(forPiece: n) { return encodeBacktracking(p, n, dst: dst, scratch: scratch, bt) }
        return mergeWithHeap(p, n, dst: dst, scratch: scratch)
    }

    /// The rank-order merge, scan or heap, for models without backtracking tables (and the
    /// reference the backtracking encoder is tested against). Same contract as `merge`.
    @inline(__always)
    func mergeWithHeap(_ p: UnsafePointer<UInt8>, _ n: Int, dst: UnsafeMutablePointer<UInt32>, scratch: MergeScratch) -> Int {
        scratch.reserve(n)
        let ids = scratch.ids
        for i in 0..<n {
            let id = byteIds[Int(p[i])]
            if id == BPEModel.noId { return mergeWithUnknownBytes(p, n, dst: dst, scratch: scratch, heapOnly: true) }
            ids[i] = id
        }
        // First round: every pair is two bytes.
        let ranks = scratch.ranks, bp = bytePairs.values
        for i in 0..<(n - 1) { ranks[i] = bp[Int(p[i]) << 8 | Int(p[i + 1])] }
        let count = n <= shortPieceLimit ? mergeShort(n, scratch: scratch, tiesByPosition: false) : mergeLong(n, scratch: scratch)
        dst.update(from: ids, count: count)
        return count
    }

    /// `merge` appending to an array (tests and load-time checks).
    func merge(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32], scratch: MergeScratch) {
        let dst = UnsafeMutablePointer<UInt32>.allocate(capacity: n)
        defer { dst.deallocate() }
        let count = n == 1 ? encodeByte(p[0], dst: dst) : merge(p, n, dst: dst, scratch: scratch)
        out.append(contentsOf: UnsafeBufferPointer(start: dst, count: count))
    }

    /// A byte with no token of its own: `<0xXX>` under byte_fallback, else the unknown token
    /// (one for a run of them under `fuse_unk`: `previous` is the id written just before in the
    /// same word), else dropped (what HF's BPE does when neither is configured). Returns the
    /// number of ids written (0 or 1).
    func unknownByte(_ b: UInt8, dst: UnsafeMutablePointer<UInt32>, previous: UInt32) -> Int {
        if let fb = byteFallbackIds, fb[Int(b)] != BPEModel.noId {
            dst[0] = fb[Int(b)]
            return 1
        }
        if let unk = unkId, !(fuseUnk && previous == unk) {
            dst[0] = unk
            return 1
        }
        return 0
    }

    /// Scan merge over `scratch.ids[0..<n]`, with `scratch.ranks[0..<n-1]` holding the first
    /// round's pair ranks. The result is left in `scratch.ids[0..<count]`; returns the count.
    /// - Parameter tiesByPosition: compare ranks only, so that two different merges of equal rank
    ///   go leftmost first (SentencePiece pieces of equal score). Otherwise a rank names one
    ///   merge and the packed `rank << 32 | id` is compared whole. Pass a literal: the branch is
    ///   resolved when the function is inlined.
    /// - Parameter until: stop when this many symbols are left (2 gives the state before a
    ///   piece's last merge, which BacktrackEncoder.swift reads at load).
    @inline(__always)
    func mergeShort(_ n: Int, scratch: MergeScratch, tiesByPosition: Bool, until: Int = 1) -> Int {
        let ids = scratch.ids, ranks = scratch.ranks
        let tieMask: UInt64 = tiesByPosition ? 0xFFFF_FFFF : 0
        var count = n
        while count > until {
            // Lowest packed value = lowest rank; strict < keeps the leftmost on ties. Written
            // as selects (no branch on the data: which pair wins is unpredictable).
            var best = ranks[0] | tieMask
            var at = 0
            var i = 1
            while i < count &- 1 {
                let r = ranks[i] | tieMask
                let less = r < best
                best = less ? r : best
                at = less ? i : at
                i &+= 1
            }
            if best == PairTable.missing { break }
            ids[at] = UInt32(truncatingIfNeeded: ranks[at])
            // Drop symbol at+1 and pair at+1 by shifting the tails left.
            var k = at &+ 1
            while k < count &- 1 { ids[k] = ids[k &+ 1]; ranks[k] = ranks[k &+ 1]; k &+= 1 }
            count &-= 1
            if at > 0 { ranks[at &- 1] = pairs.filteredGet(ids[at &- 1], ids[at]) }
            if at < count &- 1 { ranks[at] = pairs.filteredGet(ids[at], ids[at &+ 1]) }
        }
        return count
    }

    /// Heap merge over `scratch.ids[0..<n]`, first-round ranks in `scratch.ranks`. The result is
    /// left in `scratch.ids[0..<count]`; returns the count.
    func mergeLong(_ n: Int, scratch: MergeScratch, until: Int = 1) -> Int {
        let ids = scratch.ids, next = scratch.next, prev = scratch.prev, ranks = scratch.ranks
        for i in 0..<n {
            next[i] = i + 1 < n ? Int32(i + 1) : -1
            prev[i] = Int32(i - 1)
        }
        var heap = Heap(storage: scratch.heap)
        @inline(__always) func push(_ pos: Int, _ right: Int) {
            let v = pairs.filteredGet(ids[pos], ids[right])
            if v != PairTable.missing {
                heap.push(.init(key: (v >> 32) << 32 | UInt64(pos), left: ids[pos], right: ids[right],
                                merged: UInt32(truncatingIfNeeded: v)))
            }
        }
        for i in 0..<(n - 1) where ranks[i] != PairTable.missing {
            let v = ranks[i]
            heap.push(.init(key: (v >> 32) << 32 | UInt64(i), left: ids[i], right: ids[i + 1], merged: UInt32(truncatingIfNeeded: v)))
        }
        var symbols = n
        while symbols > until, let e = heap.pop() {
            let pos = Int(e.key & 0xFFFF_FFFF)
            let nx = Int(next[pos])
            // Stale if either symbol changed since the entry was pushed (a merged-away symbol
            // has the id noId, which no entry holds).
            guard nx >= 0, ids[pos] == e.left, ids[nx] == e.right else { continue }
            ids[pos] = e.merged
            ids[nx] = BPEModel.noId
            symbols -= 1
            let after = Int(next[nx])
            next[pos] = Int32(after)
            if after >= 0 { prev[after] = Int32(pos) }
            let pv = Int(prev[pos])
            if pv >= 0 { push(pv, pos) }
            if after >= 0 { push(pos, after) }
        }
        // Compact the list to the front (each symbol moves left or stays).
        var count = 0
        var i = 0
        while i >= 0 {
            ids[count] = ids[i]
            count += 1
            i = Int(next[i])
        }
        return count
    }

    /// Pieces holding bytes without ids (only in unusual vocabularies): HF builds the word from
    /// the known symbols only, so each run of known bytes merges on its own and the others
    /// become fallback/unknown ids.
    /// - Parameter heapOnly: merge the runs with `mergeWithHeap`, not `merge` (the reference).
    func mergeWithUnknownBytes(_ p: UnsafePointer<UInt8>, _ n: Int, dst: UnsafeMutablePointer<UInt32>, scratch: MergeScratch,
                               heapOnly: Bool = false) -> Int {
        var i = 0
        var count = 0
        while i < n {
            if byteIds[Int(p[i])] == BPEModel.noId {
                count += unknownByte(p[i], dst: dst + count, previous: count > 0 ? dst[count - 1] : BPEModel.noId)
                i += 1
                continue
            }
            var j = i
            while j < n && byteIds[Int(p[j])] != BPEModel.noId { j += 1 }
            if j - i == 1 {
                dst[count] = byteIds[Int(p[i])]
                count += 1
            } else {
                count += heapOnly ? mergeWithHeap(p + i, j - i, dst: dst + count, scratch: scratch)
                                  : merge(p + i, j - i, dst: dst + count, scratch: scratch)
            }
            i = j
        }
        return count
    }
}

/// A binary min-heap on `key` over caller-provided storage (capacity 3n for n symbols).
struct Heap {
    let storage: UnsafeMutablePointer<MergeScratch.HeapEntry>
    var count = 0

    init(storage: UnsafeMutablePointer<MergeScratch.HeapEntry>) { self.storage = storage }

    @inline(__always)
    mutating func push(_ e: MergeScratch.HeapEntry) {
        var i = count
        count += 1
        while i > 0 {
            let parent = (i - 1) / 2
            if storage[parent].key <= e.key { break }
            storage[i] = storage[parent]
            i = parent
        }
        storage[i] = e
    }

    @inline(__always)
    mutating func pop() -> MergeScratch.HeapEntry? {
        guard count > 0 else { return nil }
        let top = storage[0]
        count -= 1
        if count == 0 { return top }
        let last = storage[count]
        var i = 0
        while true {
            let l = 2 * i + 1
            if l >= count { break }
            var c = l
            if l + 1 < count && storage[l + 1].key < storage[l].key { c = l + 1 }
            if storage[c].key >= last.key { break }
            storage[i] = storage[c]
            i = c
        }
        storage[i] = last
        return top
    }
}

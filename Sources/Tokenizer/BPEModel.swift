// The BPE model: token bytes, merge rules and byte ids, immutable once loaded.

import Dispatch

struct BPEModel: Sendable {
    static let noId = UInt32.max

    /// Token `id` → its bytes (gaps allowed).
    let tokens: TokenStore
    /// Bytes → id, for whole-piece lookups.
    let lookup: BytesToId
    /// The id of each single byte, or `noId`.
    let byteIds: [UInt32]
    /// (left, right) → (rank, merged id). Set with `setPairs` to keep `bytePairs` in step.
    private(set) var pairs: PairTable
    /// Emit a piece that is itself a token without merging (tiktoken; HF `ignore_merges`).
    var wholePieceFirst: Bool
    /// Tokens whose own bytes merge back to exactly themselves. A piece equal to such a token
    /// can skip merging even where the reference has no `ignore_merges`: the merge would give
    /// the same single id. Computed once at load (see `markSelfMergingTokens`).
    var selfMerging: [Bool] = []
    /// Whole tokens of 2–8 bytes that may be emitted directly (all of them under
    /// `wholePieceFirst`, else the self-merging ones): the fast first lookup.
    var shortTokens: ShortTokens
    /// The same for tokens of 9–16 bytes.
    var mediumTokens: MediumTokens
    /// `pairs` for every pair of single bytes, indexed by `a << 8 | b`: a merge's first round
    /// (n - 1 lookups) reads this 512 KB table instead of probing the hash table.
    var bytePairs: BytePairTable
    var unkId: UInt32?
    var fuseUnk = false
    /// `<0xXX>` ids when HF `byte_fallback` is on.
    var byteFallbackIds: [UInt32]?
    /// Set for SentencePiece-style BPE, whose words start as characters, not bytes
    /// (BPEModel+Characters.swift).
    var characters: CharacterSymbols?
    /// The backtracking encoder's tables for byte-level models, built in the background
    /// (BacktrackEncoder.swift); nil, or nil tables where it would not be exact: merges use
    /// the scan and the heap.
    var backtrack: BacktrackSlot?

    init(tokens: [[UInt8]?], pairs: PairTable, wholePieceFirst: Bool) {
        let store = TokenStore(tokens)
        self.init(store: store, lookup: BytesToId(store), pairs: pairs, wholePieceFirst: wholePieceFirst)
    }

    init(store: TokenStore, lookup: BytesToId, pairs: PairTable, wholePieceFirst: Bool) {
        self.tokens = store
        self.lookup = lookup
        self.pairs = pairs
        self.wholePieceFirst = wholePieceFirst
        self.shortTokens = ShortTokens(store) { _ in true }
        self.mediumTokens = MediumTokens(store) { _ in true }
        var byteIds = [UInt32](repeating: BPEModel.noId, count: 256)
        // A byte's id is the lowest id whose token is that one byte.
        for id in 0..<store.count where store.present[id] && store.range(id).count == 1 {
            let b = Int(store.bytes[store.range(id).lowerBound])
            if byteIds[b] == BPEModel.noId { byteIds[b] = UInt32(id) }
        }
        self.byteIds = byteIds
        self.bytePairs = BytePairTable(pairs: pairs, byteIds: byteIds)
    }

    /// Replaces the merge rules (the tiktoken loader derives them from the token store).
    mutating func setPairs(_ p: PairTable) {
        pairs = p
        bytePairs = BytePairTable(pairs: p, byteIds: byteIds)
    }

    /// Runs the merge on every token's bytes and records which give back exactly that token.
    /// - Complexity: O(total vocabulary bytes · short merge), ~5–15 ms for 50k–100k tokens, on
    ///   two threads (dolma2's load: 308 → 282 ms, median of 9 on two CPUs).
    mutating func markSelfMergingTokens() {
        let model = self
        if characters != nil {
            markSelfMergingTokens { model.encodeCharacters($0, $1, into: &$2, scratch: $3) }
        } else {
            markSelfMergingTokens { model.merge($0, $1, into: &$2, scratch: $3) }
        }
    }

    /// The same with the word encoder `encode` (byte merge, character BPE, SentencePiece).
    mutating func markSelfMergingTokens(_ encode: @Sendable (UnsafePointer<UInt8>, Int, inout [UInt32], MergeScratch) -> Void) {
        if wholePieceFirst { return }
        var flags = [Bool](repeating: false, count: tokens.count)
        // Two halves of the ids on two threads, each with its own scratch: the merges only read
        // the model's tables.
        let tokens = self.tokens, halves = tokens.halvesOfEqualMergeWork()
        flags.withUnsafeMutableBufferPointer { flags in
            nonisolated(unsafe) let flags = flags
            DispatchQueue.concurrentPerform(iterations: 2) { k in
                let scratch = MergeScratch()
                var out: [UInt32] = []
                for id in halves[k] where tokens.present[id] {
                    let r = tokens.range(id)
                    if r.count < 2 { continue }
                    out.removeAll(keepingCapacity: true)
                    encode(tokens.bytes + r.lowerBound, r.count, &out, scratch)
                    flags[id] = out.count == 1 && out[0] == UInt32(id)
                }
            }
        }
        selfMerging = flags
        shortTokens = ShortTokens(tokens) { flags[$0] }
        mediumTokens = MediumTokens(tokens) { flags[$0] }
    }
}

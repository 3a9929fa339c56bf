// The BPE model: token bytes, merge rules and byte ids, immutable once loaded.

struct BPEModel: Sendable {
    static let noId = UInt32.max

    /// Token `id` → its bytes (gaps allowed).
    var tokens: TokenStore
    /// Bytes → id, for whole-piece lookups.
    var lookup: BytesToId
    /// The id of each single byte, or `noId`.
    var byteIds: [UInt32]
    /// (left, right) → (rank, merged id).
    var pairs: PairTable
    /// Emit a piece that is itself a token without merging (tiktoken; HF `ignore_merges`).
    var wholePieceFirst: Bool
    var unkId: UInt32?
    var fuseUnk = false
    /// `<0xXX>` ids when HF `byte_fallback` is on.
    var byteFallbackIds: [UInt32]?

    init(tokens: [[UInt8]?], pairs: PairTable, wholePieceFirst: Bool) {
        self.tokens = TokenStore(tokens)
        self.lookup = BytesToId(self.tokens)
        self.pairs = pairs
        self.wholePieceFirst = wholePieceFirst
        var byteIds = [UInt32](repeating: BPEModel.noId, count: 256)
        for (id, t) in tokens.enumerated() {
            if let t, t.count == 1, byteIds[Int(t[0])] == BPEModel.noId { byteIds[Int(t[0])] = UInt32(id) }
        }
        self.byteIds = byteIds
    }
}

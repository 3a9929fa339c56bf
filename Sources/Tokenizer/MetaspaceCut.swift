// Safe cuts inside a SentencePiece-style word, so that long texts encode as short, repeating
// pieces (the piece cache then serves most of them).
//
// Llama 2 and Phi-3 have no pre-tokenizer: HF runs BPE over the whole normalized text between
// added tokens as one word ("▁The▁cat▁sat…"), and sentencepiece does the same with the whole
// text. A merge joins two adjacent symbols into a token whose text is their concatenation, so a
// merge across the point between a character c and a following "▁" makes a token containing
// "c▁". When c and "▁" are tokens themselves (so their symbols are exactly those tokens) and no
// token of the vocabulary contains "c▁", no merge can ever cross that point: the word's ids are
// the ids of the part before it followed by those of the part after it.
//
// The vocabulary is checked once at load: Llama 2 has no token with "▁" after another
// character; Gemma 4 has one (">▁</"), and "▁" itself is unsafe wherever "▁▁" tokens exist, so
// runs of spaces stay whole. Everything else is cut before each "▁".
//
// Second rule: an ASCII character that is no token, whose byte-fallback token takes part in no
// merge (Llama's "\n", "\t", "\r" → <0x0A>, <0x09>, <0x0D>), is a symbol that never merges, so the
// word is cut on both sides of it. (sentencepiece: an unknown character never merges either when
// no piece holds it; the loader only allows this rule then, and only with byte_fallback, where
// runs of unknown characters are not fused.)

/// Where a word of a character-level BPE can be cut without changing its ids.
struct MetaspaceCut: Sendable {
    /// The characters some token has right before a "▁" (a cut after them could change the ids).
    let unsafeBefore: [UInt32]
    /// ASCII characters that always stand alone (the second rule).
    let isolated: [Bool]

    /// The cut rule for a vocabulary, or nil when "▁" is not a token (then words stay whole).
    /// - Parameter isCandidate: whether a token id can be produced by a merge (all tokens for HF;
    ///   the mergeable pieces for sentencepiece). Checking more tokens is only more cautious.
    /// - Complexity: O(total bytes of the vocabulary).
    /// - Parameter isolated: the ASCII characters of the second rule (128 flags), or nil.
    init?(tokens: TokenStore, lookup: BytesToId, isolated: [Bool]? = nil, isCandidate: (Int) -> Bool) {
        var marker: [UInt8] = [0xE2, 0x96, 0x81]
        guard lookup.get(&marker, 3) != BytesToId.empty else { return nil }
        var unsafe = Set<UInt32>()
        for id in 0..<tokens.count where tokens.present[id] && isCandidate(id) {
            let r = tokens.range(id)
            let p = UnsafeBufferPointer(start: tokens.bytes + r.lowerBound, count: r.count)
            var i = 1
            while i < p.count {
                if p[i] == 0xE2 && i + 2 < p.count && p[i + 1] == 0x96 && p[i + 2] == 0x81 {
                    let len = lastScalarLength(p, before: i)
                    unsafe.insert(decodeScalar(p, i - len).0)
                }
                i += 1
            }
        }
        unsafeBefore = unsafe.sorted()
        self.isolated = isolated ?? [Bool](repeating: false, count: 128)
    }

    /// The ASCII characters that are no token of `model` and become a byte-fallback token that
    /// no merge rule involves — for an HF model where every byte has its fallback token (so no
    /// unknown id, whose place HF decides late, can sit next to them).
    static func isolatedCharacters(_ model: BPEModel) -> [Bool] {
        var flags = [Bool](repeating: false, count: 128)
        guard let fb = model.byteFallbackIds, !fb.contains(BPEModel.noId), let ascii = model.characters?.ascii else { return flags }
        var merging = Set<UInt32>()
        model.pairs.forEachPair { l, r in merging.insert(l); merging.insert(r) }
        for b in 0..<128 where ascii[b] == BPEModel.noId && fb[b] != BPEModel.noId && !merging.contains(fb[b]) {
            flags[b] = true
        }
        return flags
    }

    /// Calls `body(start, end)` for consecutive pieces that tile `p[0..<n]`: cut before each "▁"
    /// whose previous character is a token of `model` and not in `unsafeBefore`, and around each
    /// `isolated` character.
    /// - Complexity: O(n).
    @inline(__always)
    func forEachPiece(_ p: UnsafePointer<UInt8>, _ n: Int, _ model: BPEModel, _ body: (Int, Int) -> Void) {
        guard let ascii = model.characters?.ascii else { body(0, n); return }
        let buffer = UnsafeBufferPointer(start: p, count: n)
        var start = 0
        var i = 0
        while i < n {
            let b = p[i]
            if b < 0x80 {
                if isolated[Int(b)] {
                    if i > start { body(start, i) }
                    body(i, i + 1)
                    start = i + 1
                }
                i += 1
                continue
            }
            if b == 0xE2 && i + 2 < n && p[i + 1] == 0x96 && p[i + 2] == 0x81 && i > start {
                let len = lastScalarLength(buffer, before: i)
                let c = p[i - len]
                let known: Bool
                if len == 1 {
                    known = c < 0x80 && ascii[Int(c)] != BPEModel.noId
                } else {
                    known = model.lookup.get(p + i - len, len) != BytesToId.empty
                }
                if known && (unsafeBefore.isEmpty || !unsafeBefore.contains(decodeScalar(buffer, i - len).0)) {
                    body(start, i)
                    start = i
                }
                i += 3
                continue
            }
            i += 1
        }
        if n > start { body(start, n) }
    }
}


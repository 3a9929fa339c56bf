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

/// Where a word of a character-level BPE can be cut without changing its ids.
struct MetaspaceCut: Sendable {
    /// The characters some token has right before a "▁" (a cut after them could change the ids).
    let unsafeBefore: [UInt32]

    /// The cut rule for a vocabulary, or nil when "▁" is not a token (then words stay whole).
    /// - Parameter isCandidate: whether a token id can be produced by a merge (all tokens for HF;
    ///   the mergeable pieces for sentencepiece). Checking more tokens is only more cautious.
    /// - Complexity: O(total bytes of the vocabulary).
    init?(tokens: TokenStore, lookup: BytesToId, isCandidate: (Int) -> Bool) {
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
    }

    /// Calls `body(start, end)` for consecutive pieces that tile `p[0..<n]`, cutting before each
    /// "▁" whose previous character is a token of `model` and not in `unsafeBefore`.
    /// - Complexity: O(n).
    @inline(__always)
    func forEachPiece(_ p: UnsafePointer<UInt8>, _ n: Int, _ model: BPEModel, _ body: (Int, Int) -> Void) {
        guard let ascii = model.characters?.ascii else { body(0, n); return }
        let buffer = UnsafeBufferPointer(start: p, count: n)
        var start = 0
        var i = 1
        while i + 2 < n {
            guard let hit = memchr(p + i, 0xE2, n - 2 - i) else { break }
            i = UnsafeRawPointer(hit) - UnsafeRawPointer(p)
            if p[i + 1] == 0x96 && p[i + 2] == 0x81 && i > start {
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
            }
            i += 1
        }
        body(start, n)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// sentencepiece's BPE (bpe_model.cc, `Model::Encode`) over a normalized text, on the same merge
// loops as the other BPEs (BPEMerge.swift).
//
// sentencepiece starts from one symbol per character — a user-defined symbol (the longest that
// matches) is one symbol that never merges — and repeatedly merges the adjacent pair whose
// concatenation is a piece with the highest score, leftmost among equal scores. Only NORMAL,
// USER_DEFINED and UNUSED pieces are ever formed; CONTROL pieces (`<s>`) are never found in text.
// Each final symbol is its piece's id; a character that is no piece becomes the `<0xXX>` ids of
// its bytes under byte_fallback, else the unknown id (one for a run of unknown characters).
//
// The concatenation rule is compiled once into the usual pair table: for every mergeable piece
// and every way of cutting it into two mergeable pieces, (left id, right id) → (rank, piece id),
// where ranks order the scores from high to low and equal scores share a rank; the merge loop
// then breaks ties by position (`tiesByPosition`), exactly as sentencepiece's agenda does. An
// unknown character is a symbol with an id that no pair contains (`unknownBit` | its byte offset),
// resolved after merging.
//
// Two rare things the table cannot express go to the exact port (SentencePieceReference.swift):
// UNUSED pieces (sentencepiece splits them again after merging) and mergeable pieces holding a
// character that is not itself a piece (an unknown symbol could merge into them). With UNUSED
// pieces the text is also encoded whole, without cuts or the piece cache: sentencepiece splits
// every occurrence of an UNUSED piece the way the last one formed anywhere in the text was formed.

/// A SentencePiece BPE model ready to encode normalized text.
final class SentencePieceBPE: Sendable {
    /// Ids at or above this bit stand for an unknown character at byte offset `id & ~unknownBit`.
    static let unknownBit: UInt32 = 0x8000_0000

    let model: BPEModel
    let userDefined: PrefixMatcher
    let unkId: UInt32
    /// Two different mergeable pieces share a score.
    let tiesByPosition: Bool
    /// Score rank of each id (`UInt32.max` for pieces that never merge).
    let scoreRank: [UInt32]
    /// Piece types by id.
    let types: [SentencePieceModel.PieceType]
    /// CONTROL, UNKNOWN and BYTE pieces by text (sentencepiece's `reserved_id_map_`).
    let reserved: [[UInt8]: UInt32]
    /// The exact port must run every word.
    let needsReference: Bool
    /// A word's ids depend on the rest of the text (UNUSED pieces): encode the text whole.
    let wholeText: Bool

    init(model: BPEModel, userDefined: PrefixMatcher, unkId: UInt32, tiesByPosition: Bool, scoreRank: [UInt32],
         types: [SentencePieceModel.PieceType], reserved: [[UInt8]: UInt32], needsReference: Bool, wholeText: Bool) {
        self.model = model
        self.userDefined = userDefined
        self.unkId = unkId
        self.tiesByPosition = tiesByPosition
        self.scoreRank = scoreRank
        self.types = types
        self.reserved = reserved
        self.needsReference = needsReference
        self.wholeText = wholeText
    }

    /// Appends the ids of one word `p[0..<n]` of normalized text.
    /// - Complexity: O(n) to start the symbols, then the merge (O(n) per step for short words,
    ///   O(n log n) for long ones).
    func encode(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32], scratch: MergeScratch) {
        guard n > 0 else { return }
        if needsReference || n >= Int(SentencePieceBPE.unknownBit) {
            out += SentencePieceReference.encode(UnsafeBufferPointer(start: p, count: n), self, scratch: scratch)
            return
        }
        scratch.reserve(n + 1)
        let ids = scratch.ids, small = scratch.next
        var count = 0
        var unknowns = false
        guard let chars = model.characters else { return }
        chars.ascii.withUnsafeBufferPointer { asciiBuffer in
            guard let ascii = asciiBuffer.baseAddress else { return }
            var i = 0
            while i < n {
                if !userDefined.isEmpty, let m = userDefined.longestMatch(p + i, n - i) {
                    small[count] = CharacterSymbols.notSmall
                    ids[count] = m.id
                    count += 1
                    i += m.length
                    continue
                }
                let len = min(utf8SequenceLength(p[i]), n - i)
                let id = model.characterId(p + i, len, ascii)
                if id == BPEModel.noId {
                    small[count] = CharacterSymbols.notSmall
                    ids[count] = SentencePieceBPE.unknownBit | UInt32(i)
                    unknowns = true
                } else {
                    small[count] = CharacterSymbols.smallIndex(p + i, len)
                    ids[count] = id
                }
                count += 1
                i += len
            }
        }
        let before = out.count
        if tiesByPosition {
            model.mergeSymbols(count, into: &out, scratch: scratch, tiesByPosition: true)
        } else {
            model.mergeSymbols(count, into: &out, scratch: scratch, tiesByPosition: false)
        }
        if unknowns { resolveUnknowns(p, n, from: before, in: &out) }
    }

    /// Replaces the unknown-character symbols in `out[from...]` by byte-fallback ids, or by the
    /// unknown id (one per run), as sentencepiece's `PopulateSentencePieceText`.
    func resolveUnknowns(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int, in out: inout [UInt32]) {
        let tail = Array(out[start...])
        out.removeSubrange(start...)
        var previousUnknown = false
        for id in tail {
            guard id & SentencePieceBPE.unknownBit != 0 else {
                out.append(id)
                previousUnknown = false
                continue
            }
            let offset = Int(id & ~SentencePieceBPE.unknownBit)
            appendUnknown(UnsafeBufferPointer(start: p + offset, count: min(utf8SequenceLength(p[offset]), n - offset)),
                          previousUnknown: previousUnknown, into: &out)
            previousUnknown = true
        }
    }

    /// An unknown symbol's ids: its bytes under byte_fallback, else the unknown id unless the
    /// previous symbol was unknown too.
    func appendUnknown(_ text: UnsafeBufferPointer<UInt8>, previousUnknown: Bool, into out: inout [UInt32]) {
        if let fb = model.byteFallbackIds {
            for b in text { out.append(fb[Int(b)]) }
        } else if !previousUnknown {
            out.append(unkId)
        }
    }
}

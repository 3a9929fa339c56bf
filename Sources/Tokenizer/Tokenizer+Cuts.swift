// Where a long text may be cut so that its parts are encoded independently — on different
// threads — and their ids concatenated, with exactly the ids of the whole text.
//
// The cut goes between an ASCII letter and a space that is followed by an ASCII letter
// ("…word| next…"). Why the parts give the same ids, for a byte-level tokenizer with one of the
// four split patterns:
//   - every pattern ends a piece there: no alternative matches a letter followed by white space
//     (letter runs stop at the space, o200k's optional contraction starts with an apostrophe,
//     the white-space alternatives hold only white space), so the piece holding the letter ends
//     at the cut in the whole text, and ends there too in the left part, whose end it reaches
//     (a letter run stops at the end of the text as at a space; the lookaheads — `(?!\S)`, the
//     o200k case and contraction tests — only concern the characters after a run, which are a
//     space or nothing: neither continues it);
//   - the right part starts with the piece " next" in both cases: the scanners never look
//     before the start of a piece;
//   - the model encodes each piece on its own, so the pieces' ids are the same;
//   - NFC (the only normalizer allowed) leaves ASCII letters and spaces alone and composes
//     nothing across them, so normalizing the parts gives the parts of the normalized text;
//   - added tokens are matched leftmost-longest from the left: a match ends before the cut or
//     starts at or after it unless a token contains a letter followed by a space (such
//     tokenizers get no cuts), and a token with `rstrip` could absorb the space (no cuts either;
//     `lstrip` and `single_word` look at the space and the letter, which both parts still see);
//   - ill-formed UTF-8 is repaired per bad sequence, and ASCII bytes end every bad sequence.
// The tests encode random texts whole and cut at every cut point, and compare.

extension Tokenizer {
    /// Whether the tokenizer's pipeline allows cuts (see the top of this file); decided at load.
    static func cutsAllowed(singlePattern: SplitPattern?, normalizer: Normalizer, matchedAddedTokens: [AddedToken],
                            contents: [[UInt8]]) -> Bool {
        guard singlePattern != nil else { return false }
        guard normalizer.steps.allSatisfy({ if case .nfc = $0 { return true }; return false }) else { return false }
        for (token, bytes) in zip(matchedAddedTokens, contents) {
            if token.rstrip { return false }
            for k in bytes.indices.dropLast() where bytes[k + 1] == 0x20 && isASCIILetter(bytes[k]) { return false }
        }
        return true
    }

    @inline(__always)
    static func isASCIILetter(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }

    /// The first offset `k` in `lower..<upper` where `text` may be cut: encoding `text[..<k]`
    /// then `text[k...]` gives exactly the ids of `text`. Nil when there is none in the range
    /// or the tokenizer allows no cuts (character-level and SentencePiece models, normalizers
    /// other than NFC, added tokens that could span the cut).
    /// - Complexity: O(upper - lower).
    public func cut(in text: UnsafeBufferPointer<UInt8>, from lower: Int, to upper: Int) -> Int? {
        guard cutsAllowed, lower >= 1 else { return nil }
        var k = lower
        let stop = min(upper, text.count - 1)
        while k < stop {
            if text[k] == 0x20 && Tokenizer.isASCIILetter(text[k - 1]) && Tokenizer.isASCIILetter(text[k + 1]) { return k }
            k += 1
        }
        return nil
    }
}

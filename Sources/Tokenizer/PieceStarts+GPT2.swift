// GPT-2's piece starts by block masks (PieceStarts.swift).
//
// Over ASCII, whether a piece of
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// starts at byte k depends only on bytes k-4 … k+1. With L, D, W, O the ASCII letters, digits,
// white space and the rest:
//   - white space starts a piece when the byte before is not white space, or when it is the
//     last byte of a run followed by a non-space byte (`\s+(?!\S)` leaves it to the next piece);
//   - a letter, digit or other byte starts a piece when the byte before is of another class and
//     is not U+0020 (a space before L, D or O is that piece's ` ?`: the space is the start);
//   - a contraction (an apostrophe that starts a piece — after L, D or white space other than
//     U+0020 — followed by s, t, m, d, re, ve or ll) is one piece: no start inside, a start
//     right after it even before a letter. Whether the apostrophe three bytes back starts a
//     piece reads a fourth byte.
// The same rule holds for characters when each byte carries its character's class, so blocks
// with non-ASCII characters are decided too (PieceStarts+NonASCII.swift), except where non-ASCII
// white space is involved. A block is decided when the two bytes after it (the whole character
// after it, when it is not ASCII) are inside the text.

/// The piece starts of the GPT-2 pattern, block by block (rule at the top of the file).
enum GPT2Starts: StartMasks {
    static var bytesAfter: Int { 2 }
    static var decidesNonASCII: Bool { true }

    @inline(__always)
    static func starts(_ s: Scanner, _ base: Int, _ m: ByteClassMasks) -> UInt64? {
        let p = s.p.baseAddress.unsafelyUnwrapped
        let L = m.letter, D = m.digit, W = m.space
        let O = ~(L | D | W)
        // The class of the byte before each position (bit 0: byte base-1).
        let before = base > 0 ? s.charClass(containing: base &- 1) : 0
        let pL = L &<< 1 | bit(before == ASCIIClass.letter)
        let pD = D &<< 1 | bit(before == ASCIIClass.digit)
        let pW = W &<< 1 | bit(before == ASCIIClass.space)
        let pO = O &<< 1 | bit(before == ASCIIClass.other)
        let pBlank = m.blank &<< 1 | bit(base > 0 && p[base &- 1] == 0x20)
        // The byte after each position is not white space (bit 63: byte base+64).
        let nextNotW = ~W &>> 1 | bit(s.charClass(containing: base &+ 64) != ASCIIClass.space) &<< 63
        var starts = (W & (~pW | nextNotW)) | (((L & ~pL) | (D & ~pD) | (O & ~pO)) & ~pBlank)
        if base == 0 { starts |= 1 }
        // An apostrophe before the block starts a piece after L, D or white space other than U+0020.
        return markContractions(s, base, starts, apostrophes: m.apostrophe & starts, fold: false) { c in
            let b = c > 0 ? s.charClass(containing: c &- 1) : 0
            return c == 0 || b == ASCIIClass.letter || b == ASCIIClass.digit || (b == ASCIIClass.space && p[c &- 1] != 0x20)
        }
    }

    @inline(__always) static func scan(_ s: Scanner, _ i: Int) -> Int { s.gpt2Fast(i) }

    /// Past its first four bytes, a piece is ` ?\p{L}+`, ` ?\p{N}+` or ` ?[^\s\p{L}\p{N}]+`
    /// running on in the class of the character at `j`, or white space (left to the scanner).
    static func runEnd(_ s: Scanner, from j: Int) -> Int? {
        let c = s.cls(j).0
        if c.contains(.letter) { return s.run(j, .letter) }
        if c.contains(.number) { return s.run(j, .number) }
        if s.isOther(c) { return s.otherRun(j) }
        return nil
    }
}

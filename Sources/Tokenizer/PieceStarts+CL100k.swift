// cl100k's piece starts by block masks (PieceStarts.swift), and Qwen2's: the same pattern with
// one digit a piece, so every digit starts one.
//
// The pattern, alternatives in order:
//     '(?i:[sdmt]|ll|ve|re) | [^\r\n\p{L}\p{N}]?+\p{L}++ | \p{N}{1,3}+ | ?[^\s\p{L}\p{N}]++[\r\n]*+
//     | \s++$ | \s*[\r\n] | \s+(?!\S) | \s
// Over ASCII, with L, D, W, O the letters, digits, white space and the rest, N the line breaks
// (U+000A, U+000D) and S the space U+0020, a piece starts at byte k when:
//   - k is an O and byte k-1 is neither an O (the possessive O run goes on) nor S (the run's
//     ` ?`: the space starts the piece);
//   - k starts a letter run, unless byte k-1 is its one-byte prefix: white space other than a
//     line break, or an O that starts a piece (so "(x" is one piece, "((x" and " (x" two);
//   - k starts a digit run, or lies a multiple of three digits into one;
//   - k is white space (a run R, a maximal run of W):
//       - R's first byte, unless R follows an O: that piece's `[\r\n]*` takes R's leading line
//         breaks, and the first byte after them starts a piece;
//       - when R holds a line break, `\s*[\r\n]` takes R up to its last one: the byte after it
//         starts a piece; call T the rest of R after its last line break (all of R if none);
//       - `\s+(?!\S)` leaves T's last byte to the next piece when T has two bytes or more: that
//         byte starts one (a letter's prefix, the ` ?` of an O run, or `\s` alone);
//   - a contraction (an apostrophe that starts a piece, then s, t, m, d, ll, ve or re in any
//     case) is one piece: no start inside, a start right after it even before a letter.
// The line-break rule is not local: whether a white-space byte has a line break after it in its
// run is read from the line breaks of the block (a loop over them: about one a line), and a run
// that goes on past the block is scanned to its end (at most 64 bytes, else the block is left
// to the scanner). Runs of digits and leading line breaks reaching into the block from before
// are scanned back the same way. A block is decided when those scans end inside the text (`\s++$`
// and the end of the text are the scanner's).
//
// With non-ASCII characters (PieceStarts+NonASCII.swift) each byte carries its character's
// class, and the rule holds for characters but in three places: a letter run's prefix is an O
// character, so the prefix mark moves from its first byte to its last (`continuation`); the
// character before the block is read whole, and may reach into it; and `\p{N}{1,3}` counts
// characters, so a block with a non-ASCII number, or whose digit run from before has one, is
// left to the scanner, as is one where non-ASCII white space is involved.

/// The piece starts of the cl100k pattern, block by block (rule at the top of the file).
enum CL100kStarts: CL100kFamily {
    static var maxDigits: Int { 3 }
}

/// Qwen2's pattern: cl100k's with one digit a piece (`\p{N}` for `\p{N}{1,3}`).
enum Qwen2Starts: CL100kFamily {
    static var maxDigits: Int { 1 }
}

/// The cl100k rule, with runs of up to `maxDigits` digits (3 or 1).
protocol CL100kFamily: StartMasks {
    static var maxDigits: Int { get }
}

extension CL100kFamily {
    static var bytesAfter: Int { 1 }
    static var decidesNonASCII: Bool { true }
    static var nonASCIINumbers: Bool { false }

    /// Past its first four bytes, a piece that holds a letter is `[^\r\n\p{L}\p{N}]?\p{L}+`
    /// running on in letters (numbers come three or one at a time; the other runs may end in
    /// line breaks: left to the scanner).
    static func runEnd(_ s: Scanner, from j: Int) -> Int? {
        s.cls(j).0.contains(.letter) ? s.run(j, .letter) : nil
    }

    @inline(__always)
    private static func isLineBreak(_ b: UInt8) -> Bool { b == 0x0A || b == 0x0D }

    /// The position of the byte before the run of bytes in `run` that ends at `base - 1` (-1
    /// when the run starts the text), or nil when the run is longer than 64 bytes.
    @inline(__always)
    private static func byteBeforeRun(_ p: UnsafePointer<UInt8>, _ base: Int, _ run: (UInt8) -> Bool) -> Int? {
        var j = base &- 1
        while j >= 0 && run(p[j]) {
            j &-= 1
            if base &- j > 64 { return nil }
        }
        return j
    }

    @inline(__always)
    static func starts(_ s: Scanner, _ base: Int, _ m: ByteClassMasks) -> UInt64? {
        let p = s.p.baseAddress.unsafelyUnwrapped
        let L = m.letter, D = m.digit, W = m.space, N = m.lineBreak, S = m.blank
        let O = ~(L | D | W)
        // The byte before the block and its character's class (0: none).
        let b1: UInt8 = base > 0 ? p[base &- 1] : 0
        let c1 = base > 0 ? s.charClass(containing: base &- 1) : 0
        // Masks of the byte before each position (bit 0: byte base-1).
        let pL = L &<< 1 | bit(c1 == ASCIIClass.letter)
        let pD = D &<< 1 | bit(c1 == ASCIIClass.digit)
        let pW = W &<< 1 | bit(c1 == ASCIIClass.space)
        let pO = O &<< 1 | bit(c1 == ASCIIClass.other)
        let pS = S &<< 1 | bit(base > 0 && b1 == 0x20)

        // Others.
        var starts = O & ~pO & ~pS
        // Letters: P is the last byte of a character that would be a letter run's prefix (an O
        // character that starts a piece: its first byte, moved to its last).
        var P = O & ~pO & ~pS
        if m.continuation != 0 {
            let last = ~(m.continuation &>> 1) & ~(bit(p[base &+ 64] & 0xC0 == 0x80) &<< 63)
            for _ in 0..<3 { P = (P & last) | (P & ~last) &<< 1 }
        }
        P |= W & ~N
        // The character before the block: a prefix of a letter run at byte 0, or, when it reaches
        // into the block, at the byte after its end. An O one when it starts a piece: the
        // character before it is no O and not U+0020.
        var prefix1 = false
        if c1 == ASCIIClass.space {
            prefix1 = !isLineBreak(b1)
        } else if c1 == ASCIIClass.other {
            let lead1 = b1 < 0x80 ? base &- 1 : s.lead(base &- 1)
            prefix1 = lead1 == 0 || (s.charClass(containing: lead1 &- 1) != ASCIIClass.other && p[lead1 &- 1] != 0x20)
        }
        let reachesIn = b1 >= 0x80 && p[base] & 0xC0 == 0x80
        if prefix1 && reachesIn {
            // Its last byte ends the run of continuation bytes that opens the block.
            P |= 1 &<< UInt64((m.continuation & ~(m.continuation &+ 1)).nonzeroBitCount &- 1)
        }
        starts |= L & ~pL & ~(P &<< 1 | bit(prefix1 && !reachesIn))

        // Digits: run starts, then every third digit of a run (every digit, for one a piece).
        var seeds = D & ~pD
        if maxDigits == 1 {
            seeds = D
        } else if c1 == ASCIIClass.digit {
            // The run reaching into the block: its phase, from where it starts (a non-ASCII
            // number in it is the scanner's).
            guard let j = byteBeforeRun(p, base, { $0 &- 0x30 < 10 }), j < 0 || p[j] < 0x80 else { return nil }
            let off = (3 &- (base &- j &- 1) % 3) % 3
            let need = (UInt64(2) &<< UInt64(off)) &- 1
            if D & need == need { seeds |= 1 &<< UInt64(off) }
        }
        var add = seeds
        starts |= seeds
        while add != 0 {
            add = (add &<< 3) & D & (D &<< 1) & (D &<< 2)
            starts |= add
        }

        // White space. The run at the block's end may go on past it: to its end.
        var tailLength = 0, tailBreak = false
        if W &>> 63 != 0 {
            var j = base &+ 64
            while j < s.end {
                let b = p[j]
                if s.charClass(containing: j) != ASCIIClass.space { break }
                if b >= 0x80 { return nil }
                if isLineBreak(b) { tailBreak = true }
                j &+= 1
                if j &- base &- 64 > 64 { return nil }
            }
            if j >= s.end { return nil }
            tailLength = j &- base &- 64
        }
        // NA: white space with a line break at or after it in its run.
        // Bits from the start of the run holding the highest bit of `upTo` (0 for a run from before
        // the block) through `upTo`'s highest bit.
        let runStarts = W & ~pW
        @inline(__always) func fromRunStart(_ upTo: UInt64) -> UInt64 {
            let below = runStarts & upTo
            return upTo & (UInt64.max &<< UInt64(below == 0 ? 0 : 63 &- below.leadingZeroBitCount))
        }
        var NA = tailBreak ? fromRunStart(.max) : 0
        var breaks = N
        while breaks != 0 {
            let k = breaks.trailingZeroBitCount
            breaks &= breaks &- 1
            NA |= fromRunStart(UInt64.max &>> UInt64(63 &- k))
        }
        let T = W & ~NA
        let T1 = c1 == ASCIIClass.space && !isLineBreak(b1) && !(W & NA & 1 != 0)
        let pT = T &<< 1 | bit(T1)
        let nT = T &>> 1 | bit(tailLength > 0 && !tailBreak) &<< 63
        // Leading line breaks of a run after an O, which that O's piece takes.
        var absorbedBefore = false
        if base > 0 && isLineBreak(b1) {
            guard let j = byteBeforeRun(p, base, isLineBreak) else { return nil }
            let c = j >= 0 ? s.charClass(containing: j) : 0
            // A non-ASCII space before the line breaks joins their run: the scanner's.
            if c == ASCIIClass.space && p[j] >= 0x80 { return nil }
            absorbedBefore = c == ASCIIClass.other
        }
        let seedsN = (N & ~pW & pO) | bit(absorbedBefore && N & 1 != 0)
        let absorbed = seedsN | (N & ((N &+ seedsN) ^ N ^ seedsN))
        let pAbsorbed = absorbed &<< 1 | bit(absorbedBefore)
        starts |= W & ~pW & ~absorbed          // a run's first byte
        starts |= W & ~absorbed & pAbsorbed    // the first byte after absorbed line breaks
        starts |= T & ~pT & pW                 // the first byte after a run's last line break
        starts |= T & ~nT & pT                 // the last byte of a tail of two or more
        if base == 0 { starts |= 1 }
        // An apostrophe before the block starts a piece after anything but an O or U+0020.
        return markContractions(s, base, starts, apostrophes: m.apostrophe & starts, fold: true) { c in
            c == 0 || (s.charClass(containing: c &- 1) != ASCIIClass.other && p[c &- 1] != 0x20)
        }
    }

    @inline(__always) static func scan(_ s: Scanner, _ i: Int) -> Int { s.cl100kFast(i, maxDigits: maxDigits) }
}

// Pre-tokenization by bit masks: where the pieces of the GPT-2 pattern start, 64 bytes at a
// time, for stretches of ASCII text.
//
// Over ASCII, whether a piece of
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// starts at byte k depends only on bytes k-4 … k+1 (derivation below), so the starts of a
// 64-byte block are a few operations on 64-bit masks of byte classes, and the end of a piece is
// the next set bit: one trailing-zero count per piece instead of a scan with a branch per class
// and per run (the SWAR scanner in SplitPattern+ASCII.swift mispredicts about once a piece).
//
// With L, D, W, O the ASCII letters, digits, white space and the rest, and k-1 the byte before:
//   - white space starts a piece when the byte before is not white space, or when it is the
//     last byte of a run followed by a non-space byte (`\s+(?!\S)` leaves it to the next piece);
//   - a letter, digit or other byte starts a piece when the byte before is of another class and
//     is not U+0020 (a space before L, D or O is that piece's ` ?`: the space is the start);
//   - a contraction (an apostrophe that starts a piece — after L, D or white space other than
//     U+0020 — followed by s, t, m, d, re, ve or ll) is one piece: no start inside, a start
//     right after it even before a letter.
// Piece starts are the same whatever came before, so blocks are independent: the bytes around
// a block's edges are read one by one. A block is decided this way only when it,
// the four bytes before it and the two after it are ASCII and inside the text; the encoding
// loop takes the scanners (SplitPattern+ASCII.swift) elsewhere, from a true piece start.
//
// Cost per 64 bytes (x86-64): four 16-byte loads and ~20 SSE2 operations each (compares and
// `pmovmskb`), then ~25 operations on 64-bit masks. Elsewhere the same masks come from SWAR
// words (`ByteClassMasks.swar`), which the tests compare with the SSE2 ones.

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Class masks of 64 bytes: bit k is byte k's class.
struct ByteClassMasks {
    var letter: UInt64 = 0
    var digit: UInt64 = 0
    /// U+0009–U+000D and U+0020.
    var space: UInt64 = 0
    /// U+0020 alone.
    var blank: UInt64 = 0
    var apostrophe: UInt64 = 0
    /// Bytes ≥ 0x80.
    var nonASCII: UInt64 = 0

    /// The masks of `p[0..<64]`.
    @inline(__always)
    init(_ p: UnsafeRawPointer) {
        #if arch(x86_64)
        self = ByteClassMasks.sse2(p)
        #else
        self = ByteClassMasks.swar(p)
        #endif
    }

    private init() {}

    #if arch(x86_64)
    /// SSE2 (every x86-64 CPU): signed byte compares, which are false for bytes ≥ 0x80 (negative)
    /// against the positive ASCII bounds.
    @inline(__always)
    static func sse2(_ p: UnsafeRawPointer) -> ByteClassMasks {
        var m = ByteClassMasks()
        let fold = _mm_set1_epi8(0x20), a0 = _mm_set1_epi8(0x60), z1 = _mm_set1_epi8(0x7B)
        let d0 = _mm_set1_epi8(0x2F), d1 = _mm_set1_epi8(0x3A)
        let t0 = _mm_set1_epi8(0x08), t1 = _mm_set1_epi8(0x0E)
        let quote = _mm_set1_epi8(0x27)
        for k in 0..<4 {
            let v = _mm_loadu_si128((p + 16 * k).assumingMemoryBound(to: __m128i.self))
            let lower = _mm_or_si128(v, fold)
            let letter = _mm_and_si128(_mm_cmpgt_epi8(lower, a0), _mm_cmplt_epi8(lower, z1))
            let digit = _mm_and_si128(_mm_cmpgt_epi8(v, d0), _mm_cmplt_epi8(v, d1))
            let blank = _mm_cmpeq_epi8(v, fold)
            let space = _mm_or_si128(blank, _mm_and_si128(_mm_cmpgt_epi8(v, t0), _mm_cmplt_epi8(v, t1)))
            let shift = UInt64(16 * k)
            @inline(__always) func bits(_ x: __m128i) -> UInt64 { UInt64(UInt16(truncatingIfNeeded: _mm_movemask_epi8(x))) &<< shift }
            m.letter |= bits(letter)
            m.digit |= bits(digit)
            m.space |= bits(space)
            m.blank |= bits(blank)
            m.apostrophe |= bits(_mm_cmpeq_epi8(v, quote))
            m.nonASCII |= bits(v)
        }
        return m
    }
    #endif

    /// The same from eight 8-byte words (any CPU): SWAR class tests, each byte's flag (its high
    /// bit) gathered into 8 bits by a multiply.
    static func swar(_ p: UnsafeRawPointer) -> ByteClassMasks {
        var m = ByteClassMasks()
        @inline(__always) func gather(_ x: UInt64) -> UInt64 {
            // Flags at bits 7, 15, …, 63 → bits 56…63, byte 0 lowest, then down to bits 0–7.
            ((x & SWAR.high) &* 0x0002_0408_1020_4081) &>> 56
        }
        for k in 0..<8 {
            let w = p.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self)
            let shift = UInt64(8 * k)
            m.letter |= gather(SWAR.Letters.bits(w)) &<< shift
            m.digit |= gather(SWAR.Digits.bits(w)) &<< shift
            m.space |= gather(SWAR.Spaces.bits(w)) &<< shift
            m.blank |= gather(SWAR.inRange(w, 0x20, 0x20)) &<< shift
            m.apostrophe |= gather(SWAR.inRange(w, 0x27, 0x27)) &<< shift
            m.nonASCII |= gather(w) &<< shift
        }
        return m
    }
}

/// The piece starts of the GPT-2 pattern, block by block (see the top of the file).
enum GPT2Starts {
    /// Bit k set when a piece starts at byte `base + k`, for the block `base ..< base + 64`
    /// (base a multiple of 64), or nil when the block is not decided here (a byte ≥ 0x80 among
    /// bytes base-4 … base+65, or the text ends before base + 66).
    @inline(__always)
    static func block(_ s: Scanner, _ base: Int) -> UInt64? {
        guard base &+ 66 <= s.end else { return nil }
        let p = s.p.baseAddress.unsafelyUnwrapped
        // Most undecided blocks (CJK text) are rejected by this OR of eight words.
        var any: UInt64 = 0
        for k in 0..<8 { any |= UnsafeRawPointer(p + base).loadUnaligned(fromByteOffset: 8 &* k, as: UInt64.self) }
        guard any & SWAR.high == 0 else { return nil }
        let m = ByteClassMasks(UnsafeRawPointer(p + base))
        let after0 = p[base &+ 64], after1 = p[base &+ 65]
        var edge = after0 | after1
        // base > 0 is at least 64.
        if base > 0 { edge |= p[base &- 1] | p[base &- 2] | p[base &- 3] | p[base &- 4] }
        guard m.nonASCII == 0 && edge < 0x80 else { return nil }
        return starts(s, base, m)
    }

    @inline(__always)
    private static func starts(_ s: Scanner, _ base: Int, _ m: ByteClassMasks) -> UInt64 {
        let p = s.p.baseAddress.unsafelyUnwrapped
        let table = s.ascii
        let L = m.letter, D = m.digit, W = m.space
        let O = ~(L | D | W)
        // The class of the byte before each position (bit 0: byte base-1).
        let before = base > 0 ? table[Int(p[base &- 1])] : 0
        @inline(__always) func bit(_ b: Bool) -> UInt64 { b ? 1 : 0 }
        let pL = L &<< 1 | bit(before == ASCIIClass.letter)
        let pD = D &<< 1 | bit(before == ASCIIClass.digit)
        let pW = W &<< 1 | bit(before == ASCIIClass.space)
        let pO = O &<< 1 | bit(before == ASCIIClass.other)
        let pBlank = m.blank &<< 1 | bit(base > 0 && p[base &- 1] == 0x20)
        // The byte after each position is not white space (bit 63: byte base+64).
        let nextNotW = ~W &>> 1 | bit(table[Int(p[base &+ 64])] != ASCIIClass.space) &<< 63
        var starts = (W & (~pW | nextNotW)) | (((L & ~pL) | (D & ~pD) | (O & ~pO)) & ~pBlank)
        if base == 0 { starts |= 1 }
        // Contractions starting in the block (an apostrophe that starts a piece).
        var quotes = m.apostrophe & starts
        while quotes != 0 {
            let k = quotes.trailingZeroBitCount
            quotes &= quotes &- 1
            if let e = s.contraction(base &+ k, fold: false) { starts = mark(starts, from: base &+ k, to: e, base) }
        }
        // Contractions starting in the three bytes before the block and reaching into it (or
        // ending at its first byte).
        for c in max(0, base &- 3)..<base where p[c] == 0x27 {
            let b = c > 0 ? table[Int(p[c &- 1])] : 0
            let startsPiece = c == 0 || b == ASCIIClass.letter || b == ASCIIClass.digit
                || (b == ASCIIClass.space && p[c &- 1] != 0x20)
            if startsPiece, let e = s.contraction(c, fold: false) { starts = mark(starts, from: c, to: e, base) }
        }
        return starts
    }

    /// `starts` with the bytes inside the piece `c ..< e` cleared and `e` set, where they fall in
    /// the block at `base`.
    @inline(__always)
    private static func mark(_ starts: UInt64, from c: Int, to e: Int, _ base: Int) -> UInt64 {
        var s = starts
        var k = c &+ 1
        while k < e {
            if k >= base && k < base &+ 64 { s &= ~(1 &<< UInt64(k &- base)) }
            k &+= 1
        }
        if e >= base && e < base &+ 64 { s |= 1 &<< UInt64(e &- base) }
        return s
    }
}

extension GPT2Starts {
    /// The cursor of the encoding loop when its masks have no start left: the end of the piece
    /// that starts at `i` (a true piece start), and the state for the pieces after it — a
    /// decided block `base` and its starts after that end (`rest`), or base -1 when there is
    /// none — and the last block found undecided (`undecided`, not computed again). The loop
    /// takes the next set bit of `rest` itself while there is one (EncodingContext+Split.swift).
    /// When `i` lies in `base`, that block has no start after `i`. Undecided blocks go to the
    /// scanner, `Scanner.gpt2Fast`.
    @inline(never)
    static func end(_ s: Scanner, _ i: Int, base: Int, undecided: Int) -> (end: Int, base: Int, rest: UInt64, undecided: Int) {
        var b = i & ~63
        var rest: UInt64 = 0
        if b != base {
            guard b != undecided, let mask = block(s, b) else { return scan(s, i, undecided: b) }
            rest = mask & ((UInt64.max &<< UInt64(i & 63)) &<< 1)
        }
        while rest == 0 {
            b &+= 64
            guard let m = block(s, b) else { return scan(s, i, undecided: b) }
            rest = m
        }
        return (b &+ rest.trailingZeroBitCount, b, rest & (rest &- 1), undecided)
    }

    /// The scanner's end of the piece at `i`, and the starts after it if its block is decided.
    @inline(__always)
    private static func scan(_ s: Scanner, _ i: Int, undecided: Int) -> (end: Int, base: Int, rest: UInt64, undecided: Int) {
        let e = s.gpt2Fast(i)
        let b = e & ~63
        if b != undecided, e < s.end, let mask = block(s, b) {
            return (e, b, mask & ((UInt64.max &<< UInt64(e & 63)) &<< 1), undecided)
        }
        return (e, -1, 0, b == undecided || e >= s.end ? undecided : b)
    }
}

// Pre-tokenization by bit masks: where the pieces of a split pattern start, 64 bytes at a time
// (GPT-2: PieceStarts+GPT2.swift; cl100k and Qwen2: PieceStarts+CL100k.swift; blocks with
// non-ASCII characters: PieceStarts+NonASCII.swift).
//
// Over ASCII, whether a piece starts at byte k depends only on a few bytes around k (each
// pattern's file derives its rule), so the starts of a 64-byte block are a few operations on
// 64-bit masks of byte classes, and the end of a piece is the next set bit: one trailing-zero
// count per piece instead of a scan with a branch per class and per run (the SWAR scanners in
// SplitPattern+ASCII.swift mispredict about once a piece). Piece starts do not depend on where
// the previous piece started, so blocks are independent; a block the masks cannot decide
// (non-ASCII white space in it, the end of the text, a pattern's harder cases) goes to the
// scanner, from a true piece start.
//
// Cost per 64 bytes (x86-64): four 16-byte loads and ~25 SSE2 operations each (compares and
// `pmovmskb`), then ~30 operations on 64-bit masks. Elsewhere the same masks come from SWAR
// words (`ByteClassMasks.swar`), which the tests compare with the SSE2 ones. Measured with
// cachegrind on 8 MB of en (gpt2), the same loop otherwise: 245 M instructions per pass against
// 270 M with the scanner, and ~12% more MB/s. For cl100k (a longer rule: an O before a letter is
// the letter run's prefix unless an O or U+0020 precedes it, digits start every third of a run,
// line breaks make white-space runs non-local) the instructions barely move on en (185.9 → 180.7
// M), but the mispredicted branches do (1.03 → 0.79 M, cachegrind's branch simulation), and on
// code both: 233.8 → 208.7 M instructions, 2.73 → 1.51 M mispredictions.

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
    /// U+000A and U+000D.
    var lineBreak: UInt64 = 0
    var apostrophe: UInt64 = 0
    /// Bytes ≥ 0x80.
    var nonASCII: UInt64 = 0
    /// The bytes of non-ASCII characters but their first (`withNonASCII` only; 0 for ASCII).
    var continuation: UInt64 = 0

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
        let quote = _mm_set1_epi8(0x27), lf = _mm_set1_epi8(0x0A), cr = _mm_set1_epi8(0x0D)
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
            m.lineBreak |= bits(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)))
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
            m.lineBreak |= gather(SWAR.inRange(w, 0x0A, 0x0A) | SWAR.inRange(w, 0x0D, 0x0D)) &<< shift
            m.apostrophe |= gather(SWAR.inRange(w, 0x27, 0x27)) &<< shift
            m.nonASCII |= gather(w) &<< shift
        }
        return m
    }
}

/// A pattern's piece starts by block masks, and its scanner for the rest.
protocol StartMasks {
    /// How many bytes after a block its rule reads (they must be ASCII and inside the text).
    static var bytesAfter: Int { get }
    /// The starts of the ASCII block at `base` with class masks `m` (`block`'s edges checked),
    /// or nil when the rule cannot decide it.
    static func starts(_ s: Scanner, _ base: Int, _ m: ByteClassMasks) -> UInt64?
    /// The scanner's end of the piece that starts at `i`.
    static func scan(_ s: Scanner, _ i: Int) -> Int
    /// Whether `starts` also decides blocks with non-ASCII characters, from masks in which each
    /// character's bytes carry its class (PieceStarts+NonASCII.swift), reading the classes
    /// around the block with `Scanner.charClass(containing:)`.
    static var decidesNonASCII: Bool { get }
    /// Whether such blocks may hold non-ASCII numbers (false when the rule counts digits).
    static var nonASCIINumbers: Bool { get }
    /// The end of the piece that holds byte `j` when that piece is a run of one class of
    /// characters and `j` is at least four bytes into it (past a contraction's length and an
    /// optional first character), found from `j` on; nil when the pattern's rule cannot tell
    /// from there (then the scanner starts again from the piece's start).
    static func runEnd(_ s: Scanner, from j: Int) -> Int?
}

extension StartMasks {
    static var decidesNonASCII: Bool { false }
    static var nonASCIINumbers: Bool { true }
    static func runEnd(_ s: Scanner, from j: Int) -> Int? { nil }

    /// Bit k set when a piece starts at byte `base + k`, for the block `base ..< base + 64` (base
    /// a multiple of 64), or nil when the masks do not decide the block: a byte ≥ 0x80 in it,
    /// in the four bytes before it or in the `bytesAfter` after it (unless `decidesNonASCII`),
    /// the text ending before those, or the rule's own cases.
    @inline(__always)
    static func block(_ s: Scanner, _ base: Int) -> UInt64? {
        if asciiBlockWithEdges(s, base, after: bytesAfter) {
            return starts(s, base, ByteClassMasks(UnsafeRawPointer(s.p.baseAddress.unsafelyUnwrapped + base)))
        }
        return decidesNonASCII ? nonASCIIBlock(s, base) : nil
    }

    /// `block` for a block that has non-ASCII bytes in it or at its edges (out of line: the ASCII
    /// path stays small enough to be inlined into the loop's cursor).
    @inline(never)
    static func nonASCIIBlock(_ s: Scanner, _ base: Int) -> UInt64? {
        // Four bytes after the block: the whole character after it, and `bytesAfter`.
        guard base &+ 68 <= s.end, let m = ByteClassMasks.withNonASCII(s, base, numbers: nonASCIINumbers) else { return nil }
        return starts(s, base, m)
    }
}

/// Bit 0 set when `b`.
@inline(__always) func bit(_ b: Bool) -> UInt64 { b ? 1 : 0 }

/// Whether the 64 bytes at `p + base` are all ASCII: the eight-word test that most undecided
/// blocks (CJK text) fail at once, before any mask is computed.
@inline(__always)
func asciiBlock(_ p: UnsafePointer<UInt8>, _ base: Int) -> Bool {
    var any: UInt64 = 0
    for k in 0..<8 { any |= UnsafeRawPointer(p + base).loadUnaligned(fromByteOffset: 8 &* k, as: UInt64.self) }
    return any & SWAR.high == 0
}

/// Whether the block at `base` can be decided by masks: it, the four bytes before it and the
/// `after` bytes after it lie inside the text and are ASCII.
@inline(__always)
func asciiBlockWithEdges(_ s: Scanner, _ base: Int, after: Int) -> Bool {
    guard base &+ 64 &+ after <= s.end else { return false }
    let p = s.p.baseAddress.unsafelyUnwrapped
    guard asciiBlock(p, base) else { return false }
    var edge: UInt8 = 0
    for k in 0..<after { edge |= p[base &+ 64 &+ k] }
    // base > 0 is at least 64.
    if base > 0 { edge |= p[base &- 1] | p[base &- 2] | p[base &- 3] | p[base &- 4] }
    return edge < 0x80
}

/// `starts` with the contractions that reach into the block at `base` made single pieces
/// (`markPiece`): those at an apostrophe of `apostrophes` (the block's apostrophes that start a
/// piece), and those at an apostrophe in the three bytes before the block for which
/// `startsPiece` (its position) is true. `fold`: the pattern's contractions ignore case.
@inline(__always)
func markContractions(_ s: Scanner, _ base: Int, _ starts: UInt64, apostrophes: UInt64, fold: Bool,
                      startsPiece: (Int) -> Bool) -> UInt64 {
    var starts = starts
    var quotes = apostrophes
    while quotes != 0 {
        let k = quotes.trailingZeroBitCount
        quotes &= quotes &- 1
        if let e = s.contraction(base &+ k, fold: fold) { starts = markPiece(starts, from: base &+ k, to: e, base) }
    }
    // The three bytes before the block (base is 0 or at least 64), which rarely hold one.
    let p = s.p.baseAddress.unsafelyUnwrapped
    guard base > 0 && (p[base &- 1] == 0x27 || p[base &- 2] == 0x27 || p[base &- 3] == 0x27) else { return starts }
    for c in (base &- 3)..<base where p[c] == 0x27 && startsPiece(c) {
        if let e = s.contraction(c, fold: fold) { starts = markPiece(starts, from: c, to: e, base) }
    }
    return starts
}

/// `starts` with the bytes inside the piece `c ..< e` cleared and `e` set, where they fall in
/// the block at `base` (a contraction).
@inline(__always)
func markPiece(_ starts: UInt64, from c: Int, to e: Int, _ base: Int) -> UInt64 {
    var s = starts
    var k = c &+ 1
    while k < e {
        if k >= base && k < base &+ 64 { s &= ~(1 &<< UInt64(k &- base)) }
        k &+= 1
    }
    if e >= base && e < base &+ 64 { s |= 1 &<< UInt64(e &- base) }
    return s
}

extension StartMasks {
    /// The cursor of the encoding loop when its masks have no start left: the end of the piece
    /// that starts at `i` (a true piece start), and the state for the pieces after it — a
    /// decided block `base` and its starts after that end (`rest`), or base -1 when there is
    /// none — and the last block found undecided (`undecided`, not computed again). The loop
    /// takes the next set bit of `rest` itself while there is one (EncodingContext+Split.swift).
    /// When `i` lies in `base`, that block has no start after `i`. Undecided blocks go to the
    /// pattern's scanner.
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
            guard let m = block(s, b) else {
                // No start in i + 1 ..< b: a long piece (one that runs to the text's last block,
                // which the masks cannot decide) goes on from its last character before b rather
                // than from its start, which the scanner would walk again.
                if b &- i >= 8, let e = runEnd(s, from: s.lead(b &- 1)) { return after(s, e, undecided: b) }
                return scan(s, i, undecided: b)
            }
            rest = m
        }
        return (b &+ rest.trailingZeroBitCount, b, rest & (rest &- 1), undecided)
    }

    /// The scanner's end of the piece at `i`, and the starts after it if its block is decided.
    @inline(__always)
    private static func scan(_ s: Scanner, _ i: Int, undecided: Int) -> (end: Int, base: Int, rest: UInt64, undecided: Int) {
        after(s, scan(s, i), undecided: undecided)
    }

    /// A piece's end `e`, and the starts after it if its block is decided.
    @inline(__always)
    private static func after(_ s: Scanner, _ e: Int, undecided: Int) -> (end: Int, base: Int, rest: UInt64, undecided: Int) {
        let b = e & ~63
        if b != undecided, e < s.end, let mask = block(s, b) {
            return (e, b, mask & ((UInt64.max &<< UInt64(e & 63)) &<< 1), undecided)
        }
        return (e, -1, 0, b == undecided || e >= s.end ? undecided : b)
    }
}

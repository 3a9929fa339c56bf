// Block masks over text that is not ASCII (Chinese, Japanese, Cyrillic, accented Latin…), for
// GPT-2 and cl100k (PieceStarts+GPT2.swift, PieceStarts+CL100k.swift, which says where its
// rule differs from GPT-2's).
//
// GPT-2's rule reads only the class of the character before a byte and of the one after it.
// Give every byte of a character that character's class — letter, number or other — and the
// rule, written for ASCII bytes, holds for characters: a continuation byte has its own
// character before it, of the same class, so no piece starts inside a character, and a lead
// byte sees the last byte of the character before, whose class is that character's. So a block
// with non-ASCII characters is decided by the same masks, with their bytes added to the letter
// and digit masks here. Only white space does not carry over: `\s+(?!\S)` leaves the last
// *character* of a run to the next piece, and the byte masks would start that piece at the
// run's last byte; a block in which a non-ASCII white-space character starts, or that one
// reaches into, is left to the scanner (U+3000 and U+00A0 in CJK text: ~7% of zh's blocks).
//
// Cost: the ASCII masks; CJK ideographs (U+4000–U+9FFF, most of Chinese text) by their lead
// bytes, three more SSE2 compares a 16 bytes, when the class table makes them all letters
// (`UnicodeClasses.ideographsAreLetters`); then one step per other non-ASCII character (a
// trailing-zero count, a decode, a load from the 64 KB class table). The scanner walked every
// character with a call, a decode and a class test, and mispredicted a branch about once a
// piece. Callgrind, 2 MB of zh, the split loop with its callees: gpt2 174.0 M instructions and
// 2.07 M mispredicted branches with the scanner, 138.3 M and 1.61 M with these masks (148.4 M
// without the ideographs' lead bytes); cl100k 159.1 → 135.6 M and 2.00 → 1.62 M. 8 MB of en:
// gpt2 222.7 → 223.7 M, cl100k 242.2 → 243.0 M (the class reads at a block's edges test for
// ASCII first).

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

extension ByteClassMasks {
    /// The masks of the 64 bytes at `base`, each non-ASCII character's bytes added to the letter
    /// or digit mask by its class and, but for its lead, to `continuation`; or nil when a
    /// non-ASCII white-space character (or, unless `numbers`, a non-ASCII number) starts in the
    /// block or reaches into it (see the top of the file). Valid UTF-8; the caller checks that
    /// the character after the block lies inside the text.
    @inline(__always)
    static func withNonASCII(_ s: Scanner, _ base: Int, numbers: Bool) -> ByteClassMasks? {
        let p = s.p.baseAddress.unsafelyUnwrapped
        var m = ByteClassMasks(UnsafeRawPointer(p + base))
        var rest = m.nonASCII
        // A character from before the block whose continuation bytes open it.
        if rest & 1 != 0 && p[base] & 0xC0 == 0x80 {
            let lead = s.lead(base)
            let (v, n) = decodeScalar(s.p, lead)
            let bytes = (UInt64(1) &<< UInt64(lead &+ n &- base)) &- 1
            guard m.add(UnicodeClasses.of(v, s.table), bytes, numbers: numbers) else { return nil }
            m.continuation |= bytes
            rest &= ~bytes
        }
        // CJK ideographs, ~90% of the characters of Chinese text, from their lead bytes at once.
        let ideographs = s.ideographsAreLetters ? ideographLeads(p, base) & rest : 0
        if ideographs != 0 {
            let tails = ideographs &<< 1 | ideographs &<< 2
            m.letter |= ideographs | tails
            m.continuation |= tails
            rest &= ~(ideographs | tails)
        }
        while rest != 0 {
            let k = rest.trailingZeroBitCount
            let (v, n) = decodeScalar(s.p, base &+ k)
            // The character's bytes in the block (one that runs past the block is cut there).
            let bytes = ((UInt64(1) &<< UInt64(n)) &- 1) &<< UInt64(k)
            guard m.add(UnicodeClasses.of(v, s.table), bytes, numbers: numbers) else { return nil }
            m.continuation |= bytes & (bytes &- 1)
            rest &= ~bytes
        }
        return m
    }

    /// The lead bytes of the CJK ideographs of U+4000–U+9FFF (leads E4–E9) in the 64 bytes at
    /// `base`, less U+4DC0–U+4DFF (E4 B7: the Yijing hexagram symbols, which are not letters):
    /// SSE2 compares; 0 on other CPUs, where the characters take the loop.
    @inline(__always)
    private static func ideographLeads(_ p: UnsafePointer<UInt8>, _ base: Int) -> UInt64 {
        #if arch(x86_64)
        let lo = _mm_set1_epi8(Int8(bitPattern: 0xE3)), hi = _mm_set1_epi8(Int8(bitPattern: 0xEA))
        let e4 = _mm_set1_epi8(Int8(bitPattern: 0xE4)), b7 = _mm_set1_epi8(Int8(bitPattern: 0xB7))
        var leads: UInt64 = 0, leadE4: UInt64 = 0, secondB7: UInt64 = 0
        for k in 0..<4 {
            let v = _mm_loadu_si128(UnsafeRawPointer(p + base + 16 * k).assumingMemoryBound(to: __m128i.self))
            let shift = UInt64(16 * k)
            @inline(__always) func bits(_ x: __m128i) -> UInt64 { UInt64(UInt16(truncatingIfNeeded: _mm_movemask_epi8(x))) &<< shift }
            // Signed compares: E3 < b < EA among the bytes ≥ 0x80 (negative, as these bounds are).
            leads |= bits(_mm_and_si128(_mm_cmpgt_epi8(v, lo), _mm_cmplt_epi8(v, hi)))
            leadE4 |= bits(_mm_cmpeq_epi8(v, e4))
            secondB7 |= bits(_mm_cmpeq_epi8(v, b7))
        }
        let nextB7 = secondB7 &>> 1 | bit(p[base &+ 64] == 0xB7) &<< 63
        return leads & ~(leadE4 & nextB7)
        #else
        return 0
        #endif
    }

    /// Adds the bytes of a character of class `c` to its mask (others need none: O is what is
    /// in no mask); false for white space, and for a number unless `numbers`.
    @inline(__always)
    private mutating func add(_ c: CharClass, _ bytes: UInt64, numbers: Bool) -> Bool {
        if c.contains(.letter) {
            letter |= bytes
        } else if c.contains(.number) {
            guard numbers else { return false }
            digit |= bytes
        } else if c.contains(.space) {
            return false
        }
        return true
    }
}

extension Scanner {
    /// The first byte of the character that holds byte `j` (valid UTF-8).
    @inline(__always)
    func lead(_ j: Int) -> Int {
        var k = j
        while p[k] & 0xC0 == 0x80 { k &-= 1 }
        return k
    }

    /// The `ASCIIClass` of the character that holds byte `j` (valid UTF-8): a table load for
    /// ASCII, else the character's lead found and decoded.
    @inline(__always)
    func charClass(containing j: Int) -> UInt8 {
        let b = p[j]
        return b < 0x80 ? ascii[Int(b)] : nonASCIIClass(containing: j)
    }

    /// `charClass` of a non-ASCII byte (out of line: the ASCII blocks' inlined rule calls
    /// `charClass` three times).
    @inline(never)
    private func nonASCIIClass(containing j: Int) -> UInt8 {
        let c = UnicodeClasses.of(decodeScalar(p, lead(j)).0, table)
        return c.contains(.letter) ? ASCIIClass.letter : c.contains(.number) ? ASCIIClass.digit
            : c.contains(.space) ? ASCIIClass.space : ASCIIClass.other
    }
}

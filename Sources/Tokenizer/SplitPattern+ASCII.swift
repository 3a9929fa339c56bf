// Pre-tokenization, fast path: the pieces of the four split patterns over ASCII text, with runs
// found eight bytes at a time (SWAR: each byte of a 64-bit word classified at once, the run's
// end found with one trailing-zero count instead of a loop that mispredicts its exit).
//
// The scalar scanners (SplitPattern.swift) stay the reference: each function here returns
// exactly what its scalar counterpart returns, and hands the piece to it as soon as a byte it
// would have to classify is not ASCII (a letter run that reaches "é" continues with the scalar
// run from there; anything less regular restarts the piece on the scalar scanner). The tests
// compare both on seeded random texts that mix every ASCII class with non-ASCII letters,
// numbers, spaces, marks and punctuation (SplitScanTests).
//
// Cost per piece of English text: a table read for the first byte (and the second after a
// space), one or two 8-byte loads with ~10 ALU operations each for the run, no loop per byte.

/// ASCII byte classes for the fast scanners, as bits (0 for a byte ≥ 0x80).
enum ASCIIClass {
    static let letter: UInt8 = 1
    static let digit: UInt8 = 2
    /// White space: U+0009–U+000D and U+0020.
    static let space: UInt8 = 4
    /// Neither a letter, a number nor white space (`[^\s\p{L}\p{N}]`): punctuation, symbols,
    /// control characters.
    static let other: UInt8 = 8

    /// The class of each byte, computed from the Unicode table so both paths agree.
    nonisolated(unsafe) static let table: UnsafePointer<UInt8> = {
        let t = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for b in 0..<256 {
            guard b < 0x80 else { t[b] = 0; continue }
            let c = UnicodeClasses.bmp[b]
            t[b] = c.contains(.letter) ? letter : c.contains(.number) ? digit : c.contains(.space) ? space : other
        }
        return UnsafePointer(t)
    }()
}

/// SWAR byte masks: the high bit of each byte of `bits(w)` is set where that byte of `w` is in
/// the class. Every byte is first cut to 7 bits, so the additions never carry into the next
/// byte; the original high bit (a non-ASCII byte) clears the answer. One type per class, so
/// that the run loop is specialized (and inlined) for each.
protocol ByteClassTest {
    static func bits(_ w: UInt64) -> UInt64
}

enum SWAR {
    static let high: UInt64 = 0x8080_8080_8080_8080

    @inline(__always) static func rep(_ b: UInt8) -> UInt64 { UInt64(b) &* 0x0101_0101_0101_0101 }

    /// Bytes in `lo...hi` (both ≤ 0x7F).
    @inline(__always) static func inRange(_ w: UInt64, _ lo: UInt8, _ hi: UInt8) -> UInt64 {
        let t = w & ~high
        return (t &+ rep(0x80 - lo)) & ~(t &+ rep(0x7F - hi)) & ~w & high
    }

    enum Letters: ByteClassTest {
        @inline(__always) static func bits(_ w: UInt64) -> UInt64 {
            // Case folded with | 0x20: A–Z → a–z; nothing else lands in a–z.
            let t = (w & ~high) | rep(0x20)
            return (t &+ rep(0x80 - 0x61)) & ~(t &+ rep(0x7F - 0x7A)) & ~w & high
        }
    }

    enum Upper: ByteClassTest { @inline(__always) static func bits(_ w: UInt64) -> UInt64 { inRange(w, 0x41, 0x5A) } }
    enum Lower: ByteClassTest { @inline(__always) static func bits(_ w: UInt64) -> UInt64 { inRange(w, 0x61, 0x7A) } }
    enum Digits: ByteClassTest { @inline(__always) static func bits(_ w: UInt64) -> UInt64 { inRange(w, 0x30, 0x39) } }

    /// U+0009–U+000D and U+0020.
    enum Spaces: ByteClassTest {
        @inline(__always) static func bits(_ w: UInt64) -> UInt64 {
            let t = w & ~high
            let x = t ^ rep(0x20)
            let isSpace = ~(x &+ rep(0x7F)) & high
            return (((t &+ rep(0x80 - 0x09)) & ~(t &+ rep(0x7F - 0x0D))) | isSpace) & ~w & high
        }
    }

    /// ASCII bytes that are neither letters, digits nor white space.
    enum Others: ByteClassTest {
        @inline(__always) static func bits(_ w: UInt64) -> UInt64 {
            ~w & high & ~(Letters.bits(w) | Digits.bits(w) | Spaces.bits(w))
        }
    }
}

extension Scanner {
    @inline(__always)
    private func load(_ i: Int) -> UInt64 {
        UnsafeRawPointer(p.baseAddress.unsafelyUnwrapped).loadUnaligned(fromByteOffset: i, as: UInt64.self)
    }

    /// End of the run of ASCII bytes in the class `bits` tests from `j` (the first byte outside
    /// the class, possibly non-ASCII, or `end`).
    @inline(__always)
    private func asciiRun<C: ByteClassTest>(_ j: Int, _: C.Type) -> Int {
        var j = j
        while j &+ 8 <= end {
            let stop = ~C.bits(load(j)) & SWAR.high
            if stop != 0 { return j &+ stop.trailingZeroBitCount &>> 3 }
            j &+= 8
        }
        // The last bytes one at a time (the word's other lanes are zero and not looked at).
        while j < end && C.bits(UInt64(p[j])) & 0x80 != 0 { j &+= 1 }
        return j
    }

    /// The scalar scanners, out of line: the fast paths stay small enough to be inlined.
    @inline(never) private func slowRun(_ k: Int, _ want: CharClass) -> Int { run(k, want) }
    @inline(never) private func slowOtherRun(_ k: Int) -> Int { otherRun(k) }
    @inline(never) func gpt2Slow(_ i: Int) -> Int { gpt2(i) }
    @inline(never) func cl100kSlow(_ i: Int, maxDigits: Int) -> Int { cl100k(i, maxDigits: maxDigits) }
    @inline(never) func o200kSlow(_ i: Int) -> Int { o200k(i) }

    /// `\p{L}+` from `j` (inside a run already started): ASCII letters, then the scalar run if a
    /// non-ASCII byte follows.
    @inline(__always)
    private func letters(_ j: Int) -> Int {
        let k = asciiRun(j, SWAR.Letters.self)
        return k < end && p[k] >= 0x80 ? slowRun(k, .letter) : k
    }

    /// `[^\s\p{L}\p{N}]+` from `j` (inside a run).
    @inline(__always)
    private func others(_ j: Int) -> Int {
        let k = asciiRun(j, SWAR.Others.self)
        return k < end && p[k] >= 0x80 ? slowOtherRun(k) : k
    }

    /// `[\r\n]*` (and `/` when `slash`) after a punctuation run.
    @inline(__always)
    private func newlines(_ j: Int, slash: Bool) -> Int {
        var j = j
        while j < end && (p[j] == 0x0A || p[j] == 0x0D || (slash && p[j] == 0x2F)) { j += 1 }
        return j
    }

    /// End of the ASCII white-space run from `i`, or nil when it stops at a non-ASCII byte
    /// (which may be white space too: the scalar scanner decides).
    @inline(__always)
    private func asciiSpaceRun(_ i: Int) -> Int? {
        let j = asciiRun(i, SWAR.Spaces.self)
        return j < end && p[j] >= 0x80 ? nil : j
    }

    /// `\s+(?!\S)|\s+` over ASCII white space ending at `j` (the scalar `trailingSpace`).
    @inline(__always)
    private func trailing(_ i: Int, _ j: Int) -> Int {
        j == end || j - 1 == i ? j : j - 1
    }

    /// `\p{N}{1,max}` from an ASCII digit at `i`, or nil when a non-ASCII byte interrupts it.
    @inline(__always)
    private func digitsUpTo(_ i: Int, _ max: Int) -> Int? {
        var j = i + 1, count = 1
        while count < max && j < end && p[j] &- 0x30 < 10 { j += 1; count += 1 }
        return count < max && j < end && p[j] >= 0x80 ? nil : j
    }

    // MARK: GPT-2

    /// `gpt2(i)`, fast on ASCII. The most frequent piece — a space and a letter — is tested first.
    @inline(__always)
    func gpt2Fast(_ i: Int) -> Int {
        let table = ascii
        let b0 = p[i]
        if b0 == 0x20 && i &+ 1 < end {
            let c1 = table[Int(p[i &+ 1])]
            if c1 == ASCIIClass.letter { return letters(i &+ 2) }
            if c1 == ASCIIClass.other { return others(i &+ 2) }
            if c1 == ASCIIClass.digit { return numbers(i &+ 2) }
            if c1 == 0 { return gpt2Slow(i) }
            guard let j = asciiSpaceRun(i) else { return gpt2Slow(i) }
            return trailing(i, j)
        }
        let c0 = table[Int(b0)]
        if c0 == ASCIIClass.letter { return letters(i &+ 1) }
        if c0 == ASCIIClass.other {
            if b0 == 0x27, let e = contraction(i, fold: false) { return e }
            return others(i &+ 1)
        }
        if c0 == ASCIIClass.digit { return numbers(i &+ 1) }
        if c0 == ASCIIClass.space, let j = asciiSpaceRun(i) { return trailing(i, j) }
        return gpt2Slow(i)
    }

    /// `\p{N}+` from `j` (inside a run).
    @inline(__always)
    private func numbers(_ j: Int) -> Int {
        let k = asciiRun(j, SWAR.Digits.self)
        return k < end && p[k] >= 0x80 ? slowRun(k, .number) : k
    }

    // MARK: cl100k / Llama 3 / Qwen2

    /// `cl100k(i, maxDigits:)`, fast on ASCII; a space and a letter first.
    @inline(__always)
    func cl100kFast(_ i: Int, maxDigits: Int) -> Int {
        let table = ascii
        let b0 = p[i]
        if b0 == 0x20 && i &+ 1 < end {
            let c1 = table[Int(p[i &+ 1])]
            // [^\r\n\p{L}\p{N}]?\p{L}+ with the space as the prefix
            if c1 == ASCIIClass.letter { return letters(i &+ 2) }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            if c1 == ASCIIClass.other { return newlines(others(i &+ 2), slash: false) }
            if c1 == 0 { return cl100kSlow(i, maxDigits: maxDigits) }
            return spaces(i) ?? cl100kSlow(i, maxDigits: maxDigits)
        }
        let c0 = table[Int(b0)]
        if c0 == ASCIIClass.letter { return letters(i &+ 1) }
        if c0 == 0 { return cl100kSlow(i, maxDigits: maxDigits) }
        if c0 == ASCIIClass.digit { return digitsUpTo(i, maxDigits) ?? cl100kSlow(i, maxDigits: maxDigits) }
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if b0 == 0x27, let e = contraction(i, fold: true) { return e }
        // [^\r\n\p{L}\p{N}]?\p{L}+ with this byte as the prefix
        if i &+ 1 < end {
            let c1 = table[Int(p[i &+ 1])]
            if c1 == 0 { return cl100kSlow(i, maxDigits: maxDigits) }
            if c1 == ASCIIClass.letter && b0 != 0x0A && b0 != 0x0D { return letters(i &+ 2) }
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        if c0 == ASCIIClass.other { return newlines(others(i &+ 1), slash: false) }
        return spaces(i) ?? cl100kSlow(i, maxDigits: maxDigits)
    }

    /// `\s*[\r\n]+|\s+(?!\S)|\s+` from ASCII white space at `i`, or nil if the run meets a
    /// non-ASCII byte.
    @inline(__always)
    private func spaces(_ i: Int) -> Int? {
        guard let j = asciiSpaceRun(i) else { return nil }
        var k = j
        while k > i {
            k -= 1
            if p[k] == 0x0A || p[k] == 0x0D { return k + 1 }
        }
        return trailing(i, j)
    }

    // MARK: o200k

    /// `o200k(i)`, fast on ASCII. An ASCII letter run is `[A-Z]*[a-z]*` (the two letter
    /// alternatives agree on it: the first takes it when it has a lowercase part, the second
    /// when not), after an optional prefix, then an optional contraction.
    @inline(__always)
    func o200kFast(_ i: Int) -> Int {
        let table = ascii
        let b0 = p[i]
        var start = -1
        if b0 == 0x20 && i &+ 1 < end {
            let c1 = table[Int(p[i &+ 1])]
            if c1 == ASCIIClass.letter {
                start = i &+ 1
            } else if c1 == ASCIIClass.other {
                return newlines(others(i &+ 2), slash: true)
            } else if c1 == 0 {
                return o200kSlow(i)
            } else {
                return spaces(i) ?? o200kSlow(i)
            }
        } else {
            let c0 = table[Int(b0)]
            if c0 == ASCIIClass.letter {
                start = i
            } else {
                if c0 == 0 { return o200kSlow(i) }
                if i &+ 1 < end {
                    let c1 = table[Int(p[i &+ 1])]
                    if c1 == 0 { return o200kSlow(i) }
                    if c1 == ASCIIClass.letter && c0 != ASCIIClass.digit && b0 != 0x0A && b0 != 0x0D { start = i &+ 1 }
                }
                if start < 0 {
                    if c0 == ASCIIClass.digit { return digitsUpTo(i, 3) ?? o200kSlow(i) }
                    if c0 == ASCIIClass.other { return newlines(others(i &+ 1), slash: true) }
                    return spaces(i) ?? o200kSlow(i)
                }
            }
        }
        let j = asciiRun(start, SWAR.Upper.self)
        if j < end && p[j] >= 0x80 { return o200kSlow(i) }
        let k = asciiRun(j, SWAR.Lower.self)
        if k < end && p[k] >= 0x80 { return o200kSlow(i) }
        return contraction(k, fold: true) ?? k
    }
}

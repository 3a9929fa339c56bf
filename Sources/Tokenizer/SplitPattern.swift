// Pre-tokenization: the split patterns of the GPT-2, cl100k (= Llama 3), qwen2 and o200k
// families, as hand-written scanners over UTF-8 bytes instead of a regex engine.
//
// Each scanner returns where the regex's next match ends, given that a match starts at `i`.
// The known patterns match every character, so consecutive matches tile the text and a scanner
// only has to find the end. Each one follows its regex's alternation order and backtracking
// exactly; the comments quote the alternative being emulated. `\s` is White_Space, `\p{L}`,
// `\p{N}`, `\p{M}` the general categories, and `(?i:'s)` also matches U+017F (ſ), which case-folds
// to `s` in Unicode (Rust `regex` and Oniguruma both fold it).
//
// Complexity: every scanner looks at each byte a bounded number of times (the backtracking
// below is a single backward step or a remembered position), so splitting is O(n).

/// A pre-tokenizer split pattern that finetok implements natively.
public enum SplitPattern: String, Sendable, CaseIterable {
    /// GPT-2 / r50k / p50k: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// cl100k_base, also Llama 3's: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case cl100k
    /// Qwen2: as cl100k with single digits (`\p{N}` instead of `\p{N}{1,3}`).
    case qwen2
    /// o200k_base: case-aware letter runs with attached contractions, `[\r\n/]*` after punctuation.
    case o200k

    /// Accepts the names users write: `gpt2`, `r50k`, `p50k`, `cl100k`, `llama3`, `qwen2`, `o200k`.
    public init?(name: String) {
        switch name.lowercased() {
        case "gpt2", "r50k", "r50k_base", "p50k", "p50k_base": self = .gpt2
        case "cl100k", "cl100k_base", "llama3", "llama-3": self = .cl100k
        case "qwen2", "qwen": self = .qwen2
        case "o200k", "o200k_base": self = .o200k
        default: return nil
        }
    }

    /// The regex source strings of each family as they appear in tokenizer.json files and in
    /// tiktoken (both the classic and the possessive spellings of cl100k and o200k).
    static let knownRegexes: [String: SplitPattern] = [
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#: .gpt2,
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .cl100k,
        #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"#: .cl100k,
        #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"#: .cl100k,
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .qwen2,
        #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .o200k,
    ]

    /// The pattern for a regex string, or nil if finetok has no scanner for it.
    public static func recognize(regex: String) -> SplitPattern? {
        knownRegexes[regex]
    }

    /// Calls `body` with the end offset of each piece of `p[start..<end]`, in order.
    /// - Complexity: O(end - start).
    @inline(__always)
    func split(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ body: (Int, Int) -> Void) {
        var i = start
        let s = Scanner(p: p, end: end)
        switch self {
        case .gpt2:
            while i < end { let e = s.gpt2(i); body(i, e); i = e }
        case .cl100k:
            while i < end { let e = s.cl100k(i, maxDigits: 3); body(i, e); i = e }
        case .qwen2:
            while i < end { let e = s.cl100k(i, maxDigits: 1); body(i, e); i = e }
        case .o200k:
            while i < end { let e = s.o200k(i); body(i, e); i = e }
        }
    }
}

private let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A, space: UInt8 = 0x20, apostrophe: UInt8 = 0x27

struct Scanner {
    let p: UnsafeBufferPointer<UInt8>
    let end: Int
    let table: UnsafePointer<CharClass>
    /// `ASCIIClass.table` (SplitPattern+ASCII.swift), loaded once per scanner.
    let ascii: UnsafePointer<UInt8>
    /// `UnicodeClasses.ideographsAreLetters`, read once per scanner.
    let ideographsAreLetters: Bool

    init(p: UnsafeBufferPointer<UInt8>, end: Int) {
        self.p = p
        self.end = end
        table = UnicodeClasses.bmp
        ascii = ASCIIClass.table
        ideographsAreLetters = UnicodeClasses.ideographsAreLetters
    }

    /// Class and byte length of the scalar at `i` (`i < end`).
    @inline(__always)
    func cls(_ i: Int) -> (CharClass, Int) {
        let b = p[i]
        if b < 0x80 { return (table[Int(b)], 1) }
        let (v, n) = decodeScalar(p, i)
        return (UnicodeClasses.of(v, table), n)
    }

    /// End of the run of scalars from `i` whose class intersects `want`.
    @inline(__always)
    func run(_ i: Int, _ want: CharClass) -> Int {
        var j = i
        while j < end {
            let (c, n) = cls(j)
            if c.isDisjoint(with: want) { break }
            j += n
        }
        return j
    }

    /// End of the run of "other" scalars (`[^\s\p{L}\p{N}]`) from `i`.
    @inline(__always)
    func otherRun(_ i: Int) -> Int {
        var j = i
        while j < end {
            let (c, n) = cls(j)
            if !c.isDisjoint(with: [.space, .letter, .number]) { break }
            j += n
        }
        return j
    }

    @inline(__always)
    func isOther(_ c: CharClass) -> Bool { c.isDisjoint(with: [.space, .letter, .number]) }

    /// `'s|'t|'re|'ve|'m|'ll|'d` at `i` (case-insensitively when `fold`): the end, or nil.
    @inline(__always)
    func contraction(_ i: Int, fold: Bool) -> Int? {
        guard i + 1 < end, p[i] == apostrophe else { return nil }
        var c1 = p[i + 1]
        if fold {
            // ſ (U+017F, C5 BF) folds to s.
            if c1 == 0xC5, i + 2 < end, p[i + 2] == 0xBF { return i + 3 }
            if c1 >= 0x41 && c1 <= 0x5A { c1 |= 0x20 }
        }
        switch c1 {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"): return i + 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"), UInt8(ascii: "l"):
            guard i + 2 < end else { return nil }
            var c2 = p[i + 2]
            if fold && c2 >= 0x41 && c2 <= 0x5A { c2 |= 0x20 }
            let want: UInt8 = c1 == UInt8(ascii: "l") ? UInt8(ascii: "l") : UInt8(ascii: "e")
            return c2 == want ? i + 3 : nil
        default: return nil
        }
    }

    /// `\s+(?!\S)|\s+` from a white-space scalar at `i`: the whole run if it reaches the end of the
    /// text, else the run less its last scalar (which then starts the next piece), else one scalar.
    @inline(__always)
    func trailingSpace(_ i: Int) -> Int {
        let j = run(i, .space)
        if j == end { return j }
        let last = lastScalarLength(p, before: j)
        return j - last > i ? j - last : j
    }

    /// `\s*[\r\n]+` from `i`: up to and including the last CR/LF of the white-space run, or nil.
    @inline(__always)
    func spaceThroughNewline(_ i: Int) -> Int? {
        let j = run(i, .space)
        var k = j
        while k > i {
            k -= 1
            if p[k] == lf || p[k] == cr { return k + 1 }
        }
        return nil
    }

    /// `\p{N}{1,max}` from a number at `i`.
    @inline(__always)
    func numberRun(_ i: Int, max: Int) -> Int {
        var j = i, count = 0
        while j < end && count < max {
            let (c, n) = cls(j)
            if !c.contains(.number) { break }
            j += n
            count += 1
        }
        return j
    }

    /// ` ?[^\s\p{L}\p{N}]+[\r\n]*` (cl100k) or ` ?[^\s\p{L}\p{N}]+[\r\n/]*` (o200k, `slash`)
    /// at `i`, whose class is `c0`: the end, or nil.
    @inline(__always)
    func punctuation(_ i: Int, _ c0: CharClass, slash: Bool) -> Int? {
        var start = -1
        if p[i] == space && i + 1 < end && isOther(cls(i + 1).0) { start = i + 1 } else if isOther(c0) { start = i }
        guard start >= 0 else { return nil }
        var j = otherRun(start)
        while j < end && (p[j] == cr || p[j] == lf || (slash && p[j] == UInt8(ascii: "/"))) { j += 1 }
        return j
    }

    // MARK: GPT-2

    @inline(__always)
    func gpt2(_ i: Int) -> Int {
        // 's|'t|'re|'ve|'m|'ll|'d
        if let e = contraction(i, fold: false) { return e }
        // ` ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+`: after an optional U+0020, a run of one kind.
        var start = i
        var c = cls(i).0
        if p[i] == space && i + 1 < end {
            let c1 = cls(i + 1).0
            if !c1.contains(.space) { start = i + 1; c = c1 }
        }
        if c.contains(.letter) { return run(start, .letter) }
        if c.contains(.number) { return run(start, .number) }
        if isOther(c) { return otherRun(start) }
        // \s+(?!\S)|\s+
        return trailingSpace(i)
    }

    // MARK: cl100k / Llama 3 / Qwen2

    @inline(__always)
    func cl100k(_ i: Int, maxDigits: Int) -> Int {
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if let e = contraction(i, fold: true) { return e }
        let (c0, n0) = cls(i)
        let b0 = p[i]
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if b0 != cr && b0 != lf && !c0.contains(.letter) && !c0.contains(.number) && i + n0 < end {
            let (c1, _) = cls(i + n0)
            if c1.contains(.letter) { return run(i + n0, .letter) }
        }
        if c0.contains(.letter) { return run(i, .letter) }
        // \p{N}{1,3}  (Qwen2: \p{N})
        if c0.contains(.number) { return numberRun(i, max: maxDigits) }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        if let e = punctuation(i, c0, slash: false) { return e }
        // \s*[\r\n]+
        if let e = spaceThroughNewline(i) { return e }
        // \s+(?!\S)|\s+
        return trailingSpace(i)
    }

    // MARK: o200k

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)?` after a letter run.
    @inline(__always)
    func optionalContraction(_ j: Int) -> Int { contraction(j, fold: true) ?? j }

    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+` from `s`, with the regex's
    /// backtracking: if the upper-ish run is not followed by a lower-ish scalar, the last lower-ish
    /// scalar inside the run (Lm, Lo or M are both) ends the match.
    @inline(__always)
    func o200kFirst(_ s: Int) -> Int? {
        var j = s
        var lastLowerEnd = -1
        while j < end {
            let (c, n) = cls(j)
            if !c.contains(.upperish) { break }
            j += n
            if c.contains(.lowerish) { lastLowerEnd = j }
        }
        if j < end && cls(j).0.contains(.lowerish) { return optionalContraction(run(j, .lowerish)) }
        return lastLowerEnd >= 0 ? optionalContraction(lastLowerEnd) : nil
    }

    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*` from `s`.
    @inline(__always)
    func o200kSecond(_ s: Int) -> Int? {
        let j = run(s, .upperish)
        if j == s { return nil }
        return optionalContraction(run(j, .lowerish))
    }

    @inline(__always)
    func o200k(_ i: Int) -> Int {
        let (c0, n0) = cls(i)
        let b0 = p[i]
        // The optional prefix [^\r\n\p{L}\p{N}]? is tried first with, then without, in each of the
        // two letter alternatives.
        let prefix = b0 != cr && b0 != lf && !c0.contains(.letter) && !c0.contains(.number) && i + n0 < end
        if prefix, let e = o200kFirst(i + n0) { return e }
        if let e = o200kFirst(i) { return e }
        if prefix, let e = o200kSecond(i + n0) { return e }
        if let e = o200kSecond(i) { return e }
        // \p{N}{1,3}
        if c0.contains(.number) { return numberRun(i, max: 3) }
        // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
        if let e = punctuation(i, c0, slash: true) { return e }
        if let e = spaceThroughNewline(i) { return e }
        return trailingSpace(i)
    }
}

// Unicode character classes used by the split patterns, as one bit set per scalar.
//
// The split patterns ask about `\p{L}`, `\p{N}`, `\s` (White_Space), `\p{M}` and, for o200k, the
// letter subcategories. Asking `Unicode.Scalar.Properties` on the hot path is slow, so the Basic
// Multilingual Plane is tabulated once (65,536 bytes; ~87 M instructions, built on another
// thread while the vocabulary loads) from the standard library's own Unicode data; scalars
// above U+FFFF (rare in text) are asked directly.

import Dispatch

struct CharClass: OptionSet, Sendable {
    let rawValue: UInt8
    /// `\p{L}`: any letter.
    static let letter = CharClass(rawValue: 1)
    /// `\p{N}`: any number.
    static let number = CharClass(rawValue: 2)
    /// `\s`: the White_Space property (what Rust `regex`, Oniguruma and Rust's `char::is_whitespace` use).
    static let space = CharClass(rawValue: 4)
    /// `\p{M}`: any mark.
    static let mark = CharClass(rawValue: 8)
    /// o200k's `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`.
    static let upperish = CharClass(rawValue: 16)
    /// o200k's `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`.
    static let lowerish = CharClass(rawValue: 32)
    /// Rust regex's `\w` — Alphabetic, a mark, a decimal digit, connector punctuation or a join
    /// control — which HF's `single_word` test for added tokens uses (`^\w` / `\w$`).
    static let word = CharClass(rawValue: 64)
}

enum UnicodeClasses {
    /// Asks the standard library (slow; kept out of line so that the scanners that call it for
    /// scalars above U+FFFF do not pay for its set-up).
    @inline(never)
    static func compute(_ u: Unicode.Scalar) -> CharClass {
        let p = u.properties
        var c: CharClass = []
        switch p.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: c.formUnion([.letter, .upperish])
        case .lowercaseLetter: c.formUnion([.letter, .lowerish])
        case .modifierLetter, .otherLetter: c.formUnion([.letter, .upperish, .lowerish])
        case .nonspacingMark, .spacingMark, .enclosingMark: c.formUnion([.mark, .upperish, .lowerish])
        case .decimalNumber, .letterNumber, .otherNumber: c.insert(.number)
        default: break
        }
        if p.isWhitespace { c.insert(.space) }
        if p.isAlphabetic || c.contains(.mark) || p.generalCategory == .decimalNumber
            || p.generalCategory == .connectorPunctuation || p.isJoinControl { c.insert(.word) }
        return c
    }

    /// Classes of U+0000...U+FFFF (surrogates are never looked up). Allocated once and never
    /// freed; hot loops copy the pointer into a local so the lazy-init check runs once per call.
    nonisolated(unsafe) static let bmp: UnsafePointer<CharClass> = {
        let t = UnsafeMutablePointer<CharClass>.allocate(capacity: 0x10000)
        for v in 0..<0x10000 {
            t[v] = Unicode.Scalar(UInt32(v)).map(compute) ?? []
        }
        return UnsafePointer(t)
    }()

    /// Whether the table makes every scalar of U+4000–U+9FFF a letter, U+4DC0–U+4DFF (the Yijing
    /// hexagram symbols) aside: the block masks then classify CJK ideographs by their lead bytes
    /// (PieceStarts+NonASCII.swift). True for the Unicode versions in use; checked, not assumed.
    static let ideographsAreLetters: Bool = {
        (0x4000..<0xA000).allSatisfy { v in (0x4DC0..<0x4E00).contains(v) || bmp[v].contains(.letter) }
    }()

    /// Starts building `bmp` on another thread (~87 M instructions, asking the standard
    /// library about 65,536 scalars), so it overlaps the vocabulary's parsing; the first use
    /// waits for it to finish (a lazy global is initialized once, whichever thread comes first).
    static func prepareInBackground() {
        DispatchQueue.global().async { _ = bmp }
    }

    @inline(__always)
    static func of(_ v: UInt32) -> CharClass {
        if v < 0x10000 { return bmp[Int(v)] }
        guard let u = Unicode.Scalar(v) else { return [] }
        return compute(u)
    }

    /// Class of a scalar, given the table already loaded.
    @inline(__always)
    static func of(_ v: UInt32, _ table: UnsafePointer<CharClass>) -> CharClass {
        if v < 0x10000 { return table[Int(v)] }
        guard let u = Unicode.Scalar(v) else { return [] }
        return compute(u)
    }
}

/// Decodes the scalar at `i` of valid UTF-8 and returns it with its length in bytes.
@inline(__always)
func decodeScalar(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
    let c0 = UInt32(p[i])
    if c0 < 0x80 { return (c0, 1) }
    if c0 < 0xE0 { return ((c0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
    if c0 < 0xF0 {
        return ((c0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
    }
    return ((c0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
        | UInt32(p[i + 3] & 0x3F), 4)
}

/// Length in bytes of the scalar that ends just before `end` in valid UTF-8.
@inline(__always)
func lastScalarLength(_ p: UnsafeBufferPointer<UInt8>, before end: Int) -> Int {
    var k = end - 1
    while k > 0 && p[k] & 0xC0 == 0x80 { k -= 1 }
    return end - k
}

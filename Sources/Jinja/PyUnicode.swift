// Python's Unicode rules on UTF-8 bytes: white space (`str.isspace`, the regex `\s`), line
// breaks (`splitlines`), word characters (`\w`, identifiers), case mapping (`upper`, `lower` with
// the final-sigma rule, `title`, `capitalize`) and the `is...` predicates. Character
// properties come from the Swift standard library's Unicode tables (Python 3.11 uses Unicode 14;
// characters added since may classify differently).

enum PyUnicode {
    /// `str.isspace()` for one code point (also the regex `\s`).
    @inline(__always)
    static func isSpace(_ c: UInt32) -> Bool {
        if c < 0x80 { return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) }
        switch c {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// Line boundaries of `str.splitlines()` (\r\n counts as one).
    static func isLineBreak(_ c: UInt32) -> Bool {
        switch c {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }

    /// The length of the UTF-8 sequence a lead byte starts (1 for stray continuation bytes).
    @inline(__always)
    static func sequenceLength(_ b: UInt8) -> Int {
        if b < 0xC0 { return 1 }
        if b < 0xE0 { return 2 }
        if b < 0xF0 { return 3 }
        return 4
    }

    /// The code point at byte `i` and its length.
    @inline(__always)
    static func decode(_ b: [UInt8], _ i: Int) -> (UInt32, Int) {
        let c0 = b[i]
        if c0 < 0x80 { return (UInt32(c0), 1) }
        let n = min(sequenceLength(c0), b.count - i)
        var v: UInt32
        switch n {
        case 2: v = UInt32(c0 & 0x1F)
        case 3: v = UInt32(c0 & 0x0F)
        case 4: v = UInt32(c0 & 0x07)
        default: return (UInt32(c0), 1)
        }
        for k in 1..<n { v = v << 6 | UInt32(b[i + k] & 0x3F) }
        return (v, n)
    }

    /// The code point that ends at byte `end` (exclusive) and its length.
    static func decodeBackward(_ b: [UInt8], _ end: Int) -> (UInt32, Int) {
        var s = end - 1
        while s > 0 && b[s] & 0xC0 == 0x80 && end - s < 4 { s -= 1 }
        let (c, n) = decode(b, s)
        return s + n == end ? (c, n) : (UInt32(b[end - 1]), 1)
    }

    static func scalar(at b: [UInt8], _ i: Int) -> Unicode.Scalar {
        Unicode.Scalar(decode(b, i).0) ?? "\u{FFFD}"
    }

    static func scalarCount(_ b: [UInt8], _ from: Int, _ to: Int) -> Int {
        var n = 0
        var i = from
        while i < to {
            if b[i] & 0xC0 != 0x80 { n += 1 }
            i += 1
        }
        return n
    }

    static func isASCII(_ b: [UInt8]) -> Bool {
        for x in b where x >= 0x80 { return false }
        return true
    }

    /// The byte length of a white-space character at `i`, or 0.
    @inline(__always)
    static func whitespaceLength(_ b: [UInt8], _ i: Int) -> Int {
        let c = b[i]
        if c < 0x80 { return isSpace(UInt32(c)) ? 1 : 0 }
        let (v, n) = decode(b, i)
        return isSpace(v) ? n : 0
    }

    /// `end` moved back over trailing white space (`str.rstrip()`), not before `start`.
    static func rstripWhitespace(_ b: [UInt8], _ start: Int, _ end: Int) -> Int {
        var e = end
        while e > start {
            let (c, n) = decodeBackward(b, e)
            if !isSpace(c) || e - n < start { break }
            e -= n
        }
        return e
    }

    static func isAllWhitespace(_ b: [UInt8], _ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end {
            let n = whitespaceLength(b, i)
            if n == 0 { return false }
            i += n
        }
        return true
    }

    /// Python's `\w` (letters, digits, underscore) for one code point.
    static func isWordChar(_ c: UInt32) -> Bool {
        if c < 0x80 {
            return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
        }
        guard let s = Unicode.Scalar(c) else { return false }
        return isAlpha(s) || s.properties.numericType != nil
    }

    /// The end of a run of name characters at `pos` (jinja2's name pattern), or nil.
    static func nameEnd(_ b: [UInt8], _ pos: Int) -> Int? {
        var i = pos
        while i < b.count {
            let (c, n) = decode(b, i)
            if isWordChar(c) {
                i += n
                continue
            }
            if c >= 0x80, let s = Unicode.Scalar(c) {
                switch s.properties.generalCategory {
                case .nonspacingMark, .spacingMark, .enclosingMark, .connectorPunctuation:
                    i += n
                    continue
                default: break
                }
            }
            break
        }
        return i > pos ? i : nil
    }

    /// `str.isidentifier()`.
    static func isIdentifier(_ s: String) -> Bool {
        var first = true
        for u in s.unicodeScalars {
            if first {
                if !(u == "_" || u.properties.isXIDStart) { return false }
                first = false
            } else if !u.properties.isXIDContinue {
                return false
            }
        }
        return !first
    }

    static func isAlpha(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    static func isDecimal(_ s: Unicode.Scalar) -> Bool { s.properties.generalCategory == .decimalNumber }

    static func isDigit(_ s: Unicode.Scalar) -> Bool {
        guard let t = s.properties.numericType else { return false }
        return t == .decimal || t == .digit
    }

    static func isNumeric(_ s: Unicode.Scalar) -> Bool { s.properties.numericType != nil }

    static func isAlnum(_ s: Unicode.Scalar) -> Bool { isAlpha(s) || isNumeric(s) }

    /// `str.isprintable()` for one character.
    static func isPrintable(_ s: Unicode.Scalar) -> Bool {
        if s == " " { return true }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    static func isTitlecase(_ s: Unicode.Scalar) -> Bool { s.properties.generalCategory == .titlecaseLetter }

    // MARK: Case mapping

    enum Case { case upper, lower, title, swap, fold }

    /// One code point's full case mapping.
    static func map(_ s: Unicode.Scalar, _ c: Case) -> String {
        if s.value < 0x80 {
            let v = s.value
            switch c {
            case .upper, .title: return v >= 0x61 && v <= 0x7A ? String(Unicode.Scalar(UInt8(v - 32))) : String(s)
            case .lower, .fold: return v >= 0x41 && v <= 0x5A ? String(Unicode.Scalar(UInt8(v + 32))) : String(s)
            case .swap:
                if v >= 0x61 && v <= 0x7A { return String(Unicode.Scalar(UInt8(v - 32))) }
                if v >= 0x41 && v <= 0x5A { return String(Unicode.Scalar(UInt8(v + 32))) }
                return String(s)
            }
        }
        switch c {
        case .upper: return s.properties.uppercaseMapping
        case .lower: return s.properties.lowercaseMapping
        case .title: return s.properties.titlecaseMapping
        case .fold:
            if s == "ß" { return "ss" }
            return s.properties.lowercaseMapping
        case .swap:
            if s.properties.isUppercase { return s.properties.lowercaseMapping }
            if s.properties.isLowercase { return s.properties.uppercaseMapping }
            return String(s)
        }
    }

    /// Python's final-sigma rule for `lower()`: Σ at the end of a word becomes ς.
    static func finalSigma(_ scalars: [Unicode.Scalar], _ i: Int) -> Bool {
        var j = i - 1
        while j >= 0 && scalars[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0 && scalars[j].properties.isCased else { return false }
        var k = i + 1
        while k < scalars.count && scalars[k].properties.isCaseIgnorable { k += 1 }
        return !(k < scalars.count && scalars[k].properties.isCased)
    }
}

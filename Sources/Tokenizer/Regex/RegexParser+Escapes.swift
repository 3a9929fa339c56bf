// RegexParser, the syntax of single characters and sets: escapes (`\t`, `\x{..}`, `\p{..}`,
// `\d`, anchors...) and bracket classes (ranges, negation, nesting, `&&`, POSIX brackets).
// The structure (alternation, groups, quantifiers) is in RegexParser.swift.

extension RegexParser {
    // MARK: Escapes

    enum Escaped {
        case scalar(UInt32)
        case set(ScalarSet)
        case node(RegexNode)
    }

    static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }

    static func hexValue(_ c: UInt8) -> UInt32 {
        if c <= 0x39 { return UInt32(c - 0x30) }
        if c <= 0x46 { return UInt32(c - 0x41 + 10) }
        return UInt32(c - 0x61 + 10)
    }

    func checkedScalar(_ v: UInt32, at: Int) throws(RegexError) -> UInt32 {
        guard v <= ScalarSet.maxScalar, !(0xD800...0xDFFF).contains(v) else {
            throw RegexError(.syntax, at: at, "invalid code point value")
        }
        return v
    }

    /// `\...` at `i` (which is the backslash).
    mutating func escape(inClass: Bool, _ flags: Flags) throws(RegexError) -> Escaped {
        let at = i
        i += 1
        guard let c = peek() else { throw RegexError(.syntax, at: at, "end pattern at escape") }
        if c >= 0x80 { return .scalar(scalar()) }
        i += 1
        func table(_ name: String, _ negated: Bool) -> Escaped {
            let s = UnicodeTables.set(name)
            return .set(negated ? s.inverted : s)
        }
        func anchor(_ a: Anchor) throws(RegexError) -> Escaped {
            if inClass { throw RegexError(.syntax, at: at, "anchor \\\(Character(Unicode.Scalar(c))) inside a character class") }
            return .node(.anchor(a))
        }
        switch c {
        case UInt8(ascii: "t"): return .scalar(0x09)
        case UInt8(ascii: "n"): return .scalar(0x0A)
        case UInt8(ascii: "r"): return .scalar(0x0D)
        case UInt8(ascii: "f"): return .scalar(0x0C)
        case UInt8(ascii: "v"): return .scalar(0x0B)
        case UInt8(ascii: "a"): return .scalar(0x07)
        case UInt8(ascii: "e"): return .scalar(0x1B)
        case UInt8(ascii: "d"): return table("\\d", false)
        case UInt8(ascii: "D"): return table("\\d", true)
        case UInt8(ascii: "w"): return table("\\w", false)
        case UInt8(ascii: "W"): return table("\\w", true)
        case UInt8(ascii: "s"): return table("\\s", false)
        case UInt8(ascii: "S"): return table("\\s", true)
        case UInt8(ascii: "h"): return table("\\h", false)
        case UInt8(ascii: "H"): return table("\\h", true)
        case UInt8(ascii: "b"):
            if inClass { return .scalar(0x08) }
            return try anchor(.wordBoundary)
        case UInt8(ascii: "B"): return try anchor(.notWordBoundary)
        case UInt8(ascii: "A"): return try anchor(.textStart)
        case UInt8(ascii: "z"): return try anchor(.textEnd)
        case UInt8(ascii: "Z"): return try anchor(.textEndOrFinalNewline)
        case UInt8(ascii: "p"), UInt8(ascii: "P"):
            guard peek() == UInt8(ascii: "{") else {
                throw RegexError(.unsupported, at: at, "\\\(Character(Unicode.Scalar(c))) must be followed by {name} (Oniguruma would read a literal '\(Character(Unicode.Scalar(c)))')")
            }
            i += 1
            var negated = c == UInt8(ascii: "P")
            if peek() == UInt8(ascii: "^") { negated.toggle(); i += 1 }
            let start = i
            while let d = peek(), d != UInt8(ascii: "}") { i += 1 }
            guard peek() == UInt8(ascii: "}") else { throw RegexError(.syntax, at: at, "invalid character property name: missing '}'") }
            let name = String(decoding: p[start..<i], as: UTF8.self)
            i += 1
            guard let set = UnicodeTables.property(name) else {
                throw RegexError(.unsupported, at: at, "character property {\(name)} is not supported (finetok knows the general categories and Oniguruma's POSIX-like properties, not scripts or blocks)")
            }
            return .set(negated ? set.inverted : set)
        case UInt8(ascii: "x"):
            if peek() == UInt8(ascii: "{") {
                i += 1
                let start = i
                var v: UInt32 = 0
                while let d = peek(), RegexParser.isHex(d), i - start < 8 {
                    v = v << 4 | RegexParser.hexValue(d)
                    i += 1
                }
                guard i > start, peek() == UInt8(ascii: "}") else {
                    throw RegexError(.syntax, at: at, "invalid code point value in \\x{...}")
                }
                i += 1
                return .scalar(try checkedScalar(v, at: at))
            }
            var v: UInt32 = 0, n = 0
            while n < 2, let d = peek(), RegexParser.isHex(d) {
                v = v << 4 | RegexParser.hexValue(d)
                i += 1
                n += 1
            }
            guard n > 0 else { throw RegexError(.unsupported, at: at, "\\x without hex digits") }
            return .scalar(v)
        case UInt8(ascii: "u"):
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard let d = peek(), RegexParser.isHex(d) else {
                    throw RegexError(.syntax, at: at, "invalid code point value: \\u needs four hex digits")
                }
                v = v << 4 | RegexParser.hexValue(d)
                i += 1
            }
            return .scalar(try checkedScalar(v, at: at))
        case UInt8(ascii: "o"):
            guard peek() == UInt8(ascii: "{") else { throw RegexError(.unsupported, at: at, "unknown escape \\o") }
            i += 1
            let start = i
            var v: UInt32 = 0
            while let d = peek(), d >= 0x30 && d <= 0x37, i - start < 11 {
                v = v << 3 | UInt32(d - 0x30)
                i += 1
            }
            guard i > start, peek() == UInt8(ascii: "}") else { throw RegexError(.syntax, at: at, "invalid code point value in \\o{...}") }
            i += 1
            return .scalar(try checkedScalar(v, at: at))
        case UInt8(ascii: "0"):
            var v: UInt32 = 0, n = 0
            while n < 2, let d = peek(), d >= 0x30 && d <= 0x37 {
                v = v << 3 | UInt32(d - 0x30)
                i += 1
                n += 1
            }
            return .scalar(v)
        case UInt8(ascii: "1")...UInt8(ascii: "9"):
            throw RegexError(.unsupported, at: at, "back-references (\\\(Character(Unicode.Scalar(c)))) are not supported")
        case UInt8(ascii: "c"):
            guard let d = peek(), d < 0x80 else { throw RegexError(.syntax, at: at, "end pattern at control") }
            i += 1
            return .scalar(UInt32(d & 0x1F))
        case UInt8(ascii: "R"):
            if inClass { throw RegexError(.syntax, at: at, "\\R inside a character class") }
            let breaks = ScalarSet(ranges: [0x0A...0x0D, 0x85...0x85, 0x2028...0x2029])
            return .node(.atomic(.alternation([
                .concat([.literal(0x0D, foldCase: false), .literal(0x0A, foldCase: false)]),
                .set(breaks, multi: []),
            ])))
        case UInt8(ascii: "N"):
            if inClass { throw RegexError(.syntax, at: at, "\\N inside a character class") }
            return .node(.set(RegexParser.notNewline, multi: []))
        case UInt8(ascii: "O"):
            if inClass { throw RegexError(.syntax, at: at, "\\O inside a character class") }
            return .node(.set(.all, multi: []))
        case UInt8(ascii: "k"), UInt8(ascii: "g"):
            throw RegexError(.unsupported, at: at, "back-references and subexpression calls (\\\(Character(Unicode.Scalar(c)))) are not supported")
        case UInt8(ascii: "K"), UInt8(ascii: "G"), UInt8(ascii: "X"), UInt8(ascii: "y"), UInt8(ascii: "Y"):
            throw RegexError(.unsupported, at: at, "\\\(Character(Unicode.Scalar(c))) is not supported")
        default:
            let isAlnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            if isAlnum { throw RegexError(.unsupported, at: at, "unknown escape \\\(Character(Unicode.Scalar(c)))") }
            return .scalar(UInt32(c))
        }
    }

    // MARK: Classes

    static let posixNames: Set<String> = [
        "alpha", "alnum", "upper", "lower", "digit", "xdigit", "word", "space", "punct", "graph", "print",
        "cntrl", "blank", "ascii",
    ]

    /// `[:name:]` or `[:^name:]` at `i` (which is the inner `[`), or nil if the text is not one.
    mutating func posixBracket() throws(RegexError) -> ScalarSet? {
        guard peek(1) == UInt8(ascii: ":") else { return nil }
        let at = i
        var j = i + 2
        var negated = false
        if j < p.count && p[j] == UInt8(ascii: "^") { negated = true; j += 1 }
        let start = j
        while j < p.count, (p[j] >= 0x61 && p[j] <= 0x7A) || (p[j] >= 0x41 && p[j] <= 0x5A) { j += 1 }
        guard j + 1 < p.count, p[j] == UInt8(ascii: ":"), p[j + 1] == UInt8(ascii: "]"), j > start else { return nil }
        let name = String(decoding: p[start..<j], as: UTF8.self)
        guard RegexParser.posixNames.contains(name) else {
            throw RegexError(.syntax, at: at, "invalid POSIX bracket type [:\(name):]")
        }
        i = j + 2
        let s = UnicodeTables.set("[:\(name):]")
        return negated ? s.inverted : s
    }

    /// The inside of `[...]` after the `[`: the set (closed under case folding when `(?i)`) and,
    /// for a case-insensitive class that is not negated, the multi-scalar folds of its members.
    mutating func classBody(_ flags: Flags, openedAt: Int) throws(RegexError) -> (ScalarSet, [[UInt32]]) {
        var negated = false
        if peek() == UInt8(ascii: "^") { negated = true; i += 1 }
        var operands: [ScalarSet] = []
        var current: [ClosedRange<UInt32>] = []
        var sets: [ScalarSet] = []
        var first = true
        while true {
            guard let c = peek() else { throw RegexError(.syntax, at: openedAt, "premature end of char-class") }
            if c == UInt8(ascii: "]") && !first { i += 1; break }
            first = false
            if c == UInt8(ascii: "&") && peek(1) == UInt8(ascii: "&") {
                i += 2
                operands.append(sets.reduce(ScalarSet(ranges: current)) { $0.union($1) })
                current = []
                sets = []
                continue
            }
            // One item: a nested class or POSIX bracket, an escape, or a scalar.
            let itemAt = i
            var lo: UInt32
            if c == UInt8(ascii: "[") {
                if let posix = try posixBracket() {
                    sets.append(posix)
                } else {
                    i += 1
                    let (inner, _) = try nested { (me: inout RegexParser) throws(RegexError) in try me.classBody(flags, openedAt: itemAt) }
                    sets.append(inner)
                }
                if peek() == UInt8(ascii: "-"), let n = peek(1), n != UInt8(ascii: "]") {
                    throw RegexError(.syntax, at: i, "unmatched range specifier in char-class")
                }
                continue
            } else if c == UInt8(ascii: "\\") {
                switch try escape(inClass: true, flags) {
                case .scalar(let v): lo = v
                case .set(let s):
                    sets.append(s)
                    if peek() == UInt8(ascii: "-"), let n = peek(1), n != UInt8(ascii: "]") {
                        throw RegexError(.syntax, at: i, "unmatched range specifier in char-class")
                    }
                    continue
                case .node: throw RegexError(.syntax, at: itemAt, "invalid escape in a character class")
                }
            } else {
                lo = scalar()
            }
            // A range `lo-hi`, unless the '-' ends the class.
            if peek() == UInt8(ascii: "-"), let n = peek(1), n != UInt8(ascii: "]") {
                let dash = i
                i += 1
                let hiAt = i
                var hi: UInt32
                if n == UInt8(ascii: "\\") {
                    switch try escape(inClass: true, flags) {
                    case .scalar(let v): hi = v
                    default: throw RegexError(.syntax, at: hiAt, "char-class value at end of range")
                    }
                } else if n == UInt8(ascii: "[") {
                    throw RegexError(.syntax, at: hiAt, "char-class value at end of range")
                } else {
                    hi = scalar()
                }
                guard lo <= hi else { throw RegexError(.syntax, at: dash, "empty range in char class") }
                current.append(lo...hi)
            } else {
                current.append(lo...lo)
            }
        }
        operands.append(sets.reduce(ScalarSet(ranges: current)) { $0.union($1) })
        var result = operands[0]
        for o in operands.dropFirst() { result = result.intersection(o) }
        var multi: [[UInt32]] = []
        if flags.ignoreCase {
            result = UnicodeTables.caseClosed(result)
            if !negated {
                var seen = Set<[UInt32]>()
                for c in UnicodeTables.multiFolds.keys.sorted() where result.contains(c) {
                    let f = UnicodeTables.fold(c)
                    if seen.insert(f).inserted { multi.append(f) }
                }
            }
        }
        return (negated ? result.inverted : result, multi)
    }
}

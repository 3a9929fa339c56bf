// Pattern text → RegexNode, for the Oniguruma syntax HF tokenizers uses (`onig::Regex::new`:
// ONIG_SYNTAX_ONIGURUMA, UTF-8, no options).
//
// Accepted: literals and escapes (`\t \n \r \f \v \a \e \0oo \xHH \x{H..} \uHHHH \o{..} \cX`,
// escaped punctuation), `.` `\N` `\O`, classes with ranges, negation, nested classes, `&&`
// intersection, POSIX brackets and escapes inside, `\d \D \w \W \s \S \h \H`, `\p{..}` `\P{..}`
// `\p{^..}` (general categories and Oniguruma's binary/POSIX properties), `\R`, alternation,
// groups `(...)` `(?:...)` `(?<name>...)` `(?'name'...)` `(?#...)`, options `(?imx-imx)` and
// `(?imx-imx:...)` (Ruby's: `m` makes `.` match `\n`; `(?i)` runs to the end of its group,
// across `|`), atomic groups, look-ahead and look-behind, quantifiers `? * + {n} {n,} {,m}
// {n,m}` greedy, lazy (`?`) and possessive (`+` after `? * +` only; `{n,m}+` is two
// quantifiers in Oniguruma, `{n}?` is `(?:x{n})?`, and `{n,m}` with n > m is possessive
// `{m,n}`), anchors `^ $ \A \z \Z \b \B`. A quantifier on an anchor or look-around, or on an
// alternation with one (`(?:^|a)*`), is an error, as in Oniguruma.
//
// Refused with `RegexError.unsupported` (valid Oniguruma, not implemented): back-references and
// subexpression calls (`\1`, `\k<..>`, `\g<..>`), `\K`, `\G`, `\X`, `\y`, `\Y`, script and block
// properties (`\p{Han}`), absent operators, conditionals, other options, unknown escapes.
//
// This file parses the structure (alternation, groups, quantifiers); escapes and bracket
// classes are in RegexParser+Escapes.swift.

struct RegexParser {
    /// Deepest nesting accepted, counting groups, classes and stacked quantifiers (`a**`): the
    /// parser, the compiler and the tree's own deallocation recurse once per level, so this keeps
    /// them well inside a thread's stack. Real split patterns nest a few levels.
    static let maxDepth = 128
    /// Largest repeat count, as Oniguruma's ONIG_MAX_REPEAT_NUM.
    static let maxRepeat = 100_000

    struct Flags {
        var ignoreCase = false
        /// Ruby's `m`: `.` also matches `\n`.
        var dotAll = false
        var extended = false
    }

    let p: [UInt8]
    var i = 0
    var depth = 0
    /// With named groups in the pattern, Oniguruma makes plain `(...)` non-capturing
    /// (ONIG_SYN_CAPTURE_ONLY_NAMED_GROUP), which matters for which quantifier targets it accepts.
    let plainParensCapture: Bool

    init(_ pattern: String) {
        p = Array(pattern.utf8)
        var named = false
        var k = 0
        while k + 3 < p.count {
            if p[k] == UInt8(ascii: "("), p[k + 1] == UInt8(ascii: "?"),
               p[k + 2] == UInt8(ascii: "'") || (p[k + 2] == UInt8(ascii: "<") && p[k + 3] != UInt8(ascii: "=") && p[k + 3] != UInt8(ascii: "!")) {
                named = true
            }
            k += 1
        }
        plainParensCapture = !named
    }

    static func parse(_ pattern: String) throws(RegexError) -> RegexNode {
        var parser = RegexParser(pattern)
        let node = try parser.alternation(Flags())
        if parser.i < parser.p.count {
            // Only an unmatched ')' stops the top-level alternation early.
            throw RegexError(.syntax, at: parser.i, "unmatched close parenthesis")
        }
        return node
    }

    // MARK: Structure

    func peek(_ k: Int = 0) -> UInt8? { i + k < p.count ? p[i + k] : nil }

    mutating func alternation(_ flags: Flags) throws(RegexError) -> RegexNode {
        var alts = [try sequence(flags)]
        while peek() == UInt8(ascii: "|") {
            i += 1
            alts.append(try sequence(flags))
        }
        return alts.count == 1 ? alts[0] : .alternation(alts)
    }

    mutating func sequence(_ flagsIn: Flags) throws(RegexError) -> RegexNode {
        var flags = flagsIn
        var items: [RegexNode] = []
        while let c = peek(), c != UInt8(ascii: "|"), c != UInt8(ascii: ")") {
            if flags.extended && skipExtendedSpace() { continue }
            let atomStart = i
            guard let atom = try atom(&flags) else {
                // `(?imx)`: the new options apply to the rest of the enclosing group, across `|`.
                if atomStart == i { continue }
                if i < p.count && p[i] != UInt8(ascii: ")") {
                    items.append(try nested { (me: inout RegexParser) throws(RegexError) in try me.alternation(flags) })
                }
                break
            }
            items.append(try quantifiers(atom, atomStart: atomStart, flags))
        }
        switch items.count {
        case 0: return .empty
        case 1: return items[0]
        default: return .concat(items)
        }
    }

    /// Skips white space and `#` comments in extended mode; true if it skipped anything.
    mutating func skipExtendedSpace() -> Bool {
        let start = i
        while let c = peek() {
            if c == 0x20 || (c >= 0x09 && c <= 0x0D) {
                i += 1
            } else if c == UInt8(ascii: "#") {
                while let d = peek(), d != 0x0A { i += 1 }
            } else {
                break
            }
        }
        return i > start
    }

    mutating func nested<T>(_ body: (inout RegexParser) throws(RegexError) -> T) throws(RegexError) -> T {
        depth += 1
        defer { depth -= 1 }
        if depth > RegexParser.maxDepth {
            throw RegexError(.tooLarge, at: i, "groups, classes and quantifiers nest more than \(RegexParser.maxDepth) deep")
        }
        return try body(&self)
    }

    /// One atom, or nil after an options-only group `(?imx-imx)` (which updates `flags`).
    mutating func atom(_ flags: inout Flags) throws(RegexError) -> RegexNode? {
        let start = i
        let c = p[i]
        switch c {
        case UInt8(ascii: "("):
            return try group(&flags)
        case UInt8(ascii: "["):
            i += 1
            let (set, multi) = try nested { (me: inout RegexParser) throws(RegexError) in try me.classBody(flags, openedAt: start) }
            return .set(set, multi: multi)
        case UInt8(ascii: "."):
            i += 1
            return .set(flags.dotAll ? .all : RegexParser.notNewline, multi: [])
        case UInt8(ascii: "^"):
            i += 1
            return .anchor(.lineStart)
        case UInt8(ascii: "$"):
            i += 1
            return .anchor(.lineEnd)
        case UInt8(ascii: "\\"):
            switch try escape(inClass: false, flags) {
            case .scalar(let v): return .literal(v, foldCase: flags.ignoreCase)
            case .set(let s): return .set(s, multi: [])
            case .node(let n): return n
            }
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
            throw RegexError(.syntax, at: i, "target of repeat operator is not specified")
        case UInt8(ascii: "{"):
            if interval() != nil { throw RegexError(.syntax, at: start, "target of repeat operator is not specified") }
            i = start + 1
            return .literal(UInt32(c), foldCase: flags.ignoreCase)
        default:
            return .literal(scalar(), foldCase: flags.ignoreCase)
        }
    }

    static let notNewline = ScalarSet(bounds: [0, 9, 11, ScalarSet.maxScalar])

    /// Decodes the pattern scalar at `i` and moves past it.
    mutating func scalar() -> UInt32 {
        let b0 = UInt32(p[i])
        var n = 1, v = b0
        if b0 >= 0xF0 { n = 4; v = b0 & 0x07 } else if b0 >= 0xE0 { n = 3; v = b0 & 0x0F } else if b0 >= 0xC0 { n = 2; v = b0 & 0x1F }
        for k in 1..<n { v = v << 6 | UInt32(p[i + k] & 0x3F) }
        i += n
        return v
    }

    // MARK: Groups

    mutating func group(_ flags: inout Flags) throws(RegexError) -> RegexNode? {
        let open = i
        i += 1
        func body(_ f: Flags) throws(RegexError) -> RegexNode {
            let n = try nested { (me: inout RegexParser) throws(RegexError) in try me.alternation(f) }
            guard peek() == UInt8(ascii: ")") else {
                throw RegexError(.syntax, at: open, "end pattern with unmatched parenthesis")
            }
            i += 1
            return n
        }
        guard peek() == UInt8(ascii: "?") else {
            let inner = try body(flags)
            return plainParensCapture ? .group(inner) : inner
        }
        i += 1
        guard let k = peek() else { throw RegexError(.syntax, at: open, "end pattern in group") }
        switch k {
        case UInt8(ascii: ":"): i += 1; return try body(flags)
        case UInt8(ascii: "="): i += 1; return .look(try body(flags), behind: false, negated: false, offset: open)
        case UInt8(ascii: "!"): i += 1; return .look(try body(flags), behind: false, negated: true, offset: open)
        case UInt8(ascii: ">"): i += 1; return .atomic(try body(flags))
        case UInt8(ascii: "#"):
            while let c = peek(), c != UInt8(ascii: ")") { i += 1 }
            guard peek() != nil else { throw RegexError(.syntax, at: open, "end pattern in group") }
            i += 1
            return .empty
        case UInt8(ascii: "<"):
            if peek(1) == UInt8(ascii: "=") { i += 2; return .look(try body(flags), behind: true, negated: false, offset: open) }
            if peek(1) == UInt8(ascii: "!") { i += 2; return .look(try body(flags), behind: true, negated: true, offset: open) }
            try groupName(close: UInt8(ascii: ">"), open: open)
            return .group(try body(flags))
        case UInt8(ascii: "'"):
            try groupName(close: UInt8(ascii: "'"), open: open)
            return .group(try body(flags))
        case UInt8(ascii: "~"):
            throw RegexError(.unsupported, at: open, "absent operator (?~...) is not supported")
        case UInt8(ascii: "("):
            throw RegexError(.unsupported, at: open, "conditional groups (?(...)...) are not supported")
        default:
            var f = flags
            var on = true
            while let c = peek() {
                switch c {
                case UInt8(ascii: "i"): f.ignoreCase = on
                case UInt8(ascii: "m"): f.dotAll = on
                case UInt8(ascii: "x"): f.extended = on
                case UInt8(ascii: "-"):
                    guard on else { throw RegexError(.syntax, at: i, "undefined group option") }
                    on = false
                case UInt8(ascii: ":"):
                    i += 1
                    return .group(try body(f))
                case UInt8(ascii: ")"):
                    i += 1
                    flags = f
                    return nil
                default:
                    throw RegexError(.syntax, at: i, "undefined group option")
                }
                i += 1
            }
            throw RegexError(.syntax, at: open, "end pattern in group")
        }
    }

    mutating func groupName(close: UInt8, open: Int) throws(RegexError) {
        i += 1
        let start = i
        while let c = peek(), c != close {
            let word = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c >= 0x80
            guard word else { throw RegexError(.syntax, at: i, "invalid group name") }
            i += 1
        }
        guard peek() == close, i > start else { throw RegexError(.syntax, at: open, "invalid group name") }
        if p[start] >= 0x30 && p[start] <= 0x39 { throw RegexError(.syntax, at: start, "invalid group name") }
        i += 1
    }

    // MARK: Quantifiers

    /// `{n}`, `{n,}`, `{,m}`, `{n,m}` at `i`: the bounds (and whether it is the fixed `{n}`),
    /// moving past it; nil (and `i` unchanged) if the text is not an interval, in which case
    /// `{` is a literal.
    mutating func interval() -> (min: Int, max: Int?, fixed: Bool)? {
        let start = i
        guard peek() == UInt8(ascii: "{") else { return nil }
        i += 1
        func number() -> Int? {
            var v = 0, any = false
            while let c = peek(), c >= 0x30 && c <= 0x39 {
                v = min(v * 10 + Int(c - 0x30), Int(Int32.max))
                any = true
                i += 1
            }
            return any ? v : nil
        }
        let low = number()
        var high: Int?
        var unbounded = false
        var fixed = false
        if peek() == UInt8(ascii: ",") {
            i += 1
            high = number()
            if high == nil { unbounded = true }
            if low == nil && high == nil { i = start; return nil }
        } else {
            high = low
            fixed = true
        }
        guard low != nil || high != nil, peek() == UInt8(ascii: "}") else { i = start; return nil }
        i += 1
        return (low ?? 0, unbounded ? nil : high, fixed)
    }

    mutating func quantifiers(_ atomIn: RegexNode, atomStart: Int, _ flags: Flags) throws(RegexError) -> RegexNode {
        var atom = atomIn
        let outerDepth = depth
        defer { depth = outerDepth }
        while true {
            if depth > RegexParser.maxDepth {
                throw RegexError(.tooLarge, at: i, "groups, classes and quantifiers nest more than \(RegexParser.maxDepth) deep")
            }
            if flags.extended { _ = skipExtendedSpace() }
            guard let c = peek() else { return atom }
            let at = i
            var min = 0, max: Int?, kind = QuantifierKind.greedy
            switch c {
            case UInt8(ascii: "?"): i += 1; min = 0; max = 1
            case UInt8(ascii: "*"): i += 1; min = 0; max = nil
            case UInt8(ascii: "+"): i += 1; min = 1; max = nil
            case UInt8(ascii: "{"):
                guard let (lo, hi, fixed) = interval() else { return atom }
                if lo > RegexParser.maxRepeat || (hi ?? 0) > RegexParser.maxRepeat {
                    throw RegexError(.syntax, at: at, "too big number for repeat range (the limit is \(RegexParser.maxRepeat))")
                }
                if let h = hi, lo > h {
                    // Oniguruma: {n,m} with n > m is the possessive {m,n}.
                    atom = try wrap(atom, min: h, max: lo, kind: .possessive, at: at, atomStart: atomStart)
                    continue
                }
                min = lo
                max = hi
                // `{n}?` is `(?:x{n})?` in Oniguruma (ONIG_SYN_FIXED_INTERVAL_IS_GREEDY_ONLY);
                // `{n,m}?` is lazy.
                if !fixed && peek() == UInt8(ascii: "?") { i += 1; kind = .lazy }
                atom = try wrap(atom, min: min, max: max, kind: kind, at: at, atomStart: atomStart)
                continue
            default:
                return atom
            }
            if peek() == UInt8(ascii: "?") {
                i += 1
                kind = .lazy
            } else if peek() == UInt8(ascii: "+") {
                i += 1
                kind = .possessive
            }
            atom = try wrap(atom, min: min, max: max, kind: kind, at: at, atomStart: atomStart)
        }
    }

    mutating func wrap(_ atom: RegexNode, min: Int, max: Int?, kind: QuantifierKind, at: Int, atomStart: Int) throws(RegexError) -> RegexNode {
        depth += 1
        if atom.isInvalidQuantifierTarget {
            throw RegexError(.syntax, at: at, "target of repeat operator is invalid (an anchor or look-around)")
        }
        if case .empty = atom { return .empty }
        return .quantified(atom, min: min, max: max, kind: kind, offset: at)
    }
}

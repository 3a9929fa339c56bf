// Lexer: template source → tokens, exactly as jinja2's `Lexer` does with transformers' settings
// (`trim_blocks=True`, `lstrip_blocks=True`, default delimiters, no line statements, no trailing
// newline kept).
//
// jinja2 lexes with regular expressions; this is the same machine written out by hand:
// - The source's line breaks (\r\n, \r, \n) become \n, and one trailing newline is dropped.
// - Root state: text up to the first `{{`, `{%` or `{#` is data. A `-` after the opener strips all
//   white space before it; otherwise, for `{%`/`{#` (not `{{`), lstrip_blocks removes spaces and
//   tabs between the last line break (or the start of a line) and the tag. `+` disables that.
// - `{% raw %}`...`{% endraw %}` is data. Comments are skipped.
// - Inside a tag: `-%}` eats the white space after it, `%}` (and `#}`) eat one newline
//   (trim_blocks), `+%}` nothing; `}}` never trims, `-}}` eats white space. Between tokens,
//   white space is skipped. The rules are tried in jinja2's order: white space, float, integer,
//   name, string, operator; a closing delimiter only counts when brackets are balanced.
// Cost: one pass over the source, on demand; tokens keep their byte offset (for line:column).

struct Lexer {
    /// The normalized source (line breaks as \n, one trailing newline dropped).
    let src: [UInt8]
    var pos = 0
    /// Tokens produced but not yet taken (a tag step can produce a data token and a tag opener).
    var tokens: [Token] = []
    var taken = 0
    /// jinja2's `line_starting`: the last match ended with a newline.
    var lineStarting = true
    var balancing: [UInt8] = []
    enum State { case root, block, variable }
    var state = State.root
    var lastPos = 0

    /// jinja2's newline normalization: every \r\n, \r and \n becomes \n; a final newline is dropped.
    static func normalize(_ source: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(source.utf8.count)
        var it = source.utf8.makeIterator()
        var pendingCR = false
        while let b = it.next() {
            if pendingCR {
                pendingCR = false
                if b == 10 { continue }
            }
            if b == 13 {
                out.append(10)
                pendingCR = true
            } else {
                out.append(b)
            }
        }
        if out.last == 10 { out.removeLast() }
        return out
    }

    init(source: String) {
        src = Lexer.normalize(source)
    }

    /// The next token (`.eof` at the end, repeatedly). Tokens are made on demand, as jinja2's
    /// lexer is a generator: a lexical error after a syntax error is never reached.
    mutating func next() throws(JinjaError) -> Token {
        while taken == tokens.count {
            tokens.removeAll(keepingCapacity: true)
            taken = 0
            if pos >= src.count {
                return Token(kind: .eof, pos: lastPos)
            }
            switch state {
            case .root: try root()
            case .block: try tagStep(isBlock: true)
            case .variable: try tagStep(isBlock: false)
            }
        }
        taken += 1
        lastPos = tokens[taken - 1].pos
        return tokens[taken - 1]
    }

    @inline(__always) func byte(_ i: Int) -> UInt8 { i < src.count ? src[i] : 0 }

    // MARK: Root state

    mutating func root() throws(JinjaError) {
        // The first `{{`, `{%` or `{#`.
        var i = pos
        var found = -1
        while i + 1 < src.count {
            if src[i] == UInt8(ascii: "{") {
                let n = src[i + 1]
                if n == UInt8(ascii: "{") || n == UInt8(ascii: "%") || n == UInt8(ascii: "#") { found = i; break }
            }
            i += 1
        }
        if found < 0 {
            emitData(pos, src.count)
            pos = src.count
            return
        }
        let opener = src[found + 1]
        var afterOpener = found + 2
        let signByte = byte(afterOpener)
        let sign: UInt8 = (signByte == UInt8(ascii: "-") || signByte == UInt8(ascii: "+")) ? signByte : 0
        if sign != 0 { afterOpener += 1 }

        // {% raw %} is tried first: `{%(-|+|)\s*raw\s*(-%}\s*|%})`.
        if opener == UInt8(ascii: "%"), let rawEnd = matchRawBegin(afterOpener) {
            emitStrippedData(pos, found, sign: sign, isVariable: false)
            lineStarting = src[rawEnd - 1] == 10
            pos = rawEnd
            try rawBody(openedAt: found)
            return
        }
        emitStrippedData(pos, found, sign: sign, isVariable: opener == UInt8(ascii: "{"))
        lineStarting = false
        pos = afterOpener
        switch opener {
        case UInt8(ascii: "#"): try comment(openedAt: found)
        case UInt8(ascii: "%"):
            tokens.append(Token(kind: .blockBegin, pos: found))
            state = .block
        default:
            tokens.append(Token(kind: .variableBegin, pos: found))
            state = .variable
        }
    }

    /// Emits `src[start..<end]` as data after jinja2's OptionalLStrip rule.
    mutating func emitStrippedData(_ start: Int, _ end: Int, sign: UInt8, isVariable: Bool) {
        var e = end
        if sign == UInt8(ascii: "-") {
            e = PyUnicode.rstripWhitespace(src, start, end)
        } else if sign != UInt8(ascii: "+") && !isVariable {
            // lstrip_blocks: strip the spaces between the last newline (or a line start) and the tag.
            var lpos = end
            while lpos > start && src[lpos - 1] != 10 { lpos -= 1 }
            if (lpos > start || lineStarting) && lpos < end && PyUnicode.isAllWhitespace(src, lpos, end) {
                e = lpos
            }
        }
        emitData(start, e)
    }

    mutating func emitData(_ start: Int, _ end: Int) {
        guard end > start else { return }
        let text = String(decoding: src[start..<end], as: UTF8.self)
        tokens.append(Token(kind: .data, pos: start, text: text))
    }

    /// Skips `\s*` from `i`.
    func skipSpace(_ i: Int) -> Int {
        var j = i
        while j < src.count {
            let n = PyUnicode.whitespaceLength(src, j)
            if n == 0 { break }
            j += n
        }
        return j
    }

    func matches(_ i: Int, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= src.count else { return false }
        let p = word.utf8Start
        for k in 0..<n where src[i + k] != p[k] { return false }
        return true
    }

    /// The end of a `{% raw %}` opener whose sign is already consumed (at `i`), or nil.
    func matchRawBegin(_ i: Int) -> Int? {
        var j = skipSpace(i)
        guard matches(j, "raw") else { return nil }
        j = skipSpace(j + 3)
        if matches(j, "-%}") { return skipSpace(j + 3) }
        if matches(j, "%}") { return j + 2 }
        return nil
    }

    /// The body of a raw block up to `{% endraw %}`, as data.
    mutating func rawBody(openedAt: Int) throws(JinjaError) {
        var i = pos
        while i + 1 < src.count {
            if src[i] == UInt8(ascii: "{") && src[i + 1] == UInt8(ascii: "%") {
                var j = i + 2
                var sign: UInt8 = 0
                if byte(j) == UInt8(ascii: "-") || byte(j) == UInt8(ascii: "+") { sign = src[j]; j += 1 }
                j = skipSpace(j)
                if matches(j, "endraw") {
                    j = skipSpace(j + 6)
                    var end = -1
                    if matches(j, "+%}") {
                        end = j + 3
                    } else if matches(j, "-%}") {
                        end = skipSpace(j + 3)
                    } else if matches(j, "%}") {
                        end = j + 2
                        if byte(end) == 10 { end += 1 }
                    }
                    if end >= 0 {
                        emitStrippedData(pos, i, sign: sign, isVariable: false)
                        lineStarting = src[end - 1] == 10
                        pos = end
                        return
                    }
                }
            }
            i += 1
        }
        throw .syntax("Missing end of raw directive", at: openedAt)
    }

    mutating func comment(openedAt: Int) throws(JinjaError) {
        var i = pos
        while i < src.count {
            if matches(i, "+#}") {
                finishComment(i + 3)
                return
            }
            if matches(i, "-#}") {
                finishComment(skipSpace(i + 3))
                return
            }
            if matches(i, "#}") {
                var end = i + 2
                if byte(end) == 10 { end += 1 }
                finishComment(end)
                return
            }
            i += 1
        }
        throw .syntax("Missing end of comment tag", at: openedAt)
    }

    mutating func finishComment(_ end: Int) {
        lineStarting = src[end - 1] == 10
        pos = end
    }

    // MARK: Inside {{ }} and {% %}

    /// One step inside a tag: white space, one token, or the closing delimiter.
    mutating func tagStep(isBlock: Bool) throws(JinjaError) {
        if balancing.isEmpty {
            if isBlock {
                if matches(pos, "+%}") { return endTag(.blockEnd, pos + 3) }
                if matches(pos, "-%}") { return endTag(.blockEnd, skipSpace(pos + 3)) }
                if matches(pos, "%}") {
                    var end = pos + 2
                    if byte(end) == 10 { end += 1 }
                    return endTag(.blockEnd, end)
                }
            } else {
                if matches(pos, "-}}") { return endTag(.variableEnd, skipSpace(pos + 3)) }
                if matches(pos, "}}") { return endTag(.variableEnd, pos + 2) }
            }
        }
        let ws = skipSpace(pos)
        if ws > pos {
            pos = ws
            return
        }
        try lexToken()
    }

    mutating func endTag(_ kind: TokenKind, _ end: Int) {
        tokens.append(Token(kind: kind, pos: pos))
        lineStarting = src[end - 1] == 10
        pos = end
        state = .root
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    /// `(\d+_)*\d+` from `i`; the end, or nil.
    func digitsWithUnderscores(_ i: Int) -> Int? {
        guard Lexer.isDigit(byte(i)) else { return nil }
        var j = i
        while Lexer.isDigit(byte(j)) { j += 1 }
        while byte(j) == UInt8(ascii: "_") && Lexer.isDigit(byte(j + 1)) {
            j += 1
            while Lexer.isDigit(byte(j)) { j += 1 }
        }
        return j
    }

    /// jinja2's `float_re` at `pos`: the end, or nil.
    func matchFloat() -> Int? {
        if pos > 0 && src[pos - 1] == UInt8(ascii: ".") { return nil }
        guard let intEnd = digitsWithUnderscores(pos) else { return nil }
        func exponent(_ i: Int) -> Int? {
            guard byte(i) == UInt8(ascii: "e") || byte(i) == UInt8(ascii: "E") else { return nil }
            var j = i + 1
            if byte(j) == UInt8(ascii: "+") || byte(j) == UInt8(ascii: "-") { j += 1 }
            return digitsWithUnderscores(j)
        }
        var fracEnd: Int? = nil
        if byte(intEnd) == UInt8(ascii: "."), let f = digitsWithUnderscores(intEnd + 1) { fracEnd = f }
        if let f = fracEnd, let e = exponent(f) { return e }
        if let e = exponent(intEnd) { return e }
        return fracEnd
    }

    /// jinja2's `integer_re` at `pos`: the end, or nil.
    func matchInteger() -> Int? {
        let c = byte(pos)
        guard Lexer.isDigit(c) else { return nil }
        if c == UInt8(ascii: "0") {
            let p = byte(pos + 1) | 0x20
            func run(_ ok: (UInt8) -> Bool) -> Int? {
                var j = pos + 2
                var any = false
                while true {
                    if byte(j) == UInt8(ascii: "_") && ok(byte(j + 1)) { j += 2; any = true; continue }
                    if ok(byte(j)) { j += 1; any = true; continue }
                    break
                }
                return any ? j : nil
            }
            if p == UInt8(ascii: "b"), let e = run({ $0 == 48 || $0 == 49 }) { return e }
            if p == UInt8(ascii: "o"), let e = run({ $0 >= 48 && $0 <= 55 }) { return e }
            if p == UInt8(ascii: "x"), let e = run({ Lexer.isDigit($0) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 102) }) { return e }
            var j = pos + 1
            while true {
                if byte(j) == UInt8(ascii: "0") { j += 1; continue }
                if byte(j) == UInt8(ascii: "_") && byte(j + 1) == UInt8(ascii: "0") { j += 2; continue }
                break
            }
            return j
        }
        var j = pos + 1
        while true {
            if Lexer.isDigit(byte(j)) { j += 1; continue }
            if byte(j) == UInt8(ascii: "_") && Lexer.isDigit(byte(j + 1)) { j += 2; continue }
            break
        }
        return j
    }

    mutating func lexToken() throws(JinjaError) {
        let start = pos
        if let end = matchFloat() {
            let text = String(decoding: src[start..<end].filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
            guard let d = Double(text) else { throw .syntax("invalid float literal \(text)", at: start) }
            tokens.append(Token(kind: .float, pos: start, text: text, double: d))
            pos = end
            return
        }
        if let end = matchInteger() {
            let digits = src[start..<end].filter { $0 != UInt8(ascii: "_") }
            var radix = 10
            var body = digits[...]
            if digits.count > 2 && digits[0] == UInt8(ascii: "0") {
                switch digits[1] | 0x20 {
                case UInt8(ascii: "b"): radix = 2; body = digits[2...]
                case UInt8(ascii: "o"): radix = 8; body = digits[2...]
                case UInt8(ascii: "x"): radix = 16; body = digits[2...]
                default: break
                }
            }
            let text = String(decoding: body, as: UTF8.self)
            guard let v = Int(text, radix: radix) else {
                throw .syntax("the integer literal \(String(decoding: src[start..<end], as: UTF8.self)) does not fit in 64 bits (finetok's Jinja integers are 64-bit)", at: start)
            }
            tokens.append(Token(kind: .integer, pos: start, text: text, int: v))
            pos = end
            return
        }
        if let end = PyUnicode.nameEnd(src, pos) {
            let name = String(decoding: src[start..<end], as: UTF8.self)
            if !PyUnicode.isIdentifier(name) {
                throw .syntax("Invalid character in identifier", at: start)
            }
            tokens.append(Token(kind: .name, pos: start, text: name))
            pos = end
            return
        }
        let c = src[pos]
        if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
            var j = pos + 1
            var closed = false
            while j < src.count {
                let b = src[j]
                if b == c { closed = true; break }
                if b == UInt8(ascii: "\\") { j += 2; continue }
                j += 1
            }
            if closed && j < src.count {
                let value = try PyStringLiteral.unescape(src[(pos + 1)..<j], at: start)
                tokens.append(Token(kind: .string, pos: start, text: value))
                pos = j + 1
                return
            }
        }
        if let (kind, len) = operatorAt(pos) {
            try balance(kind, at: start)
            tokens.append(Token(kind: kind, pos: start))
            pos += len
            return
        }
        let ch = PyUnicode.scalar(at: src, pos)
        let charIndex = PyUnicode.scalarCount(src, 0, pos)
        throw .syntax("unexpected char \(PyRepr.string(String(ch))) at \(charIndex)", at: start)
    }

    mutating func balance(_ kind: TokenKind, at offset: Int) throws(JinjaError) {
        switch kind {
        case .lbrace: balancing.append(UInt8(ascii: "}"))
        case .lparen: balancing.append(UInt8(ascii: ")"))
        case .lbracket: balancing.append(UInt8(ascii: "]"))
        case .rbrace, .rparen, .rbracket:
            let closer = UInt8(ascii: kind == .rbrace ? "}" : kind == .rparen ? ")" : "]")
            guard let expected = balancing.popLast() else {
                throw .syntax("unexpected '\(Character(Unicode.Scalar(closer)))'", at: offset)
            }
            if expected != closer {
                throw .syntax("unexpected '\(Character(Unicode.Scalar(closer)))', expected '\(Character(Unicode.Scalar(expected)))'", at: offset)
            }
        default: break
        }
    }

    func operatorAt(_ i: Int) -> (TokenKind, Int)? {
        let a = byte(i), b = byte(i + 1)
        switch (a, b) {
        case (UInt8(ascii: "/"), UInt8(ascii: "/")): return (.floordiv, 2)
        case (UInt8(ascii: "*"), UInt8(ascii: "*")): return (.pow, 2)
        case (UInt8(ascii: "="), UInt8(ascii: "=")): return (.eq, 2)
        case (UInt8(ascii: "!"), UInt8(ascii: "=")): return (.ne, 2)
        case (UInt8(ascii: ">"), UInt8(ascii: "=")): return (.gteq, 2)
        case (UInt8(ascii: "<"), UInt8(ascii: "=")): return (.lteq, 2)
        default: break
        }
        switch a {
        case UInt8(ascii: "+"): return (.add, 1)
        case UInt8(ascii: "-"): return (.sub, 1)
        case UInt8(ascii: "/"): return (.div, 1)
        case UInt8(ascii: "*"): return (.mul, 1)
        case UInt8(ascii: "%"): return (.mod, 1)
        case UInt8(ascii: "~"): return (.tilde, 1)
        case UInt8(ascii: "["): return (.lbracket, 1)
        case UInt8(ascii: "]"): return (.rbracket, 1)
        case UInt8(ascii: "("): return (.lparen, 1)
        case UInt8(ascii: ")"): return (.rparen, 1)
        case UInt8(ascii: "{"): return (.lbrace, 1)
        case UInt8(ascii: "}"): return (.rbrace, 1)
        case UInt8(ascii: ">"): return (.gt, 1)
        case UInt8(ascii: "<"): return (.lt, 1)
        case UInt8(ascii: "="): return (.assign, 1)
        case UInt8(ascii: "."): return (.dot, 1)
        case UInt8(ascii: ":"): return (.colon, 1)
        case UInt8(ascii: "|"): return (.pipe, 1)
        case UInt8(ascii: ","): return (.comma, 1)
        case UInt8(ascii: ";"): return (.semicolon, 1)
        default: return nil
        }
    }
}


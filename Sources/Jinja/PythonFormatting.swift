// Python's text forms of values: `str()` (what `{{ x }}` prints), `repr()` (inside lists and
// dicts: `['a', 1]`, `{'k': None}`), the float repr (the shortest digits that read back the same
// float, `1e-05`, `1e+16`, `0.1`), printf-style `%` formatting, `str.format` (jinja2's
// sandboxed formatter) and markupsafe's `escape`.
//
// Provenance: `str()` of a container marks the repr of each data string inside it as data.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

enum PyRepr {
    /// Python's `repr(str)`.
    static func string(_ s: String) -> String {
        var b: [UInt8] = []
        appendString(Array(s.utf8), to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func appendHex(_ v: UInt32, digits: Int, to out: inout [UInt8]) {
        var shift = (digits - 1) * 4
        while shift >= 0 {
            out.append(hexDigits[Int((v >> UInt32(shift)) & 0xF)])
            shift -= 4
        }
    }

    /// Appends Python's `repr()` of the UTF-8 string `s`.
    static func appendString(_ s: [UInt8], to out: inout [UInt8]) {
        let quote: UInt8 = s.contains(UInt8(ascii: "'")) && !s.contains(UInt8(ascii: "\"")) ? UInt8(ascii: "\"") : UInt8(ascii: "'")
        out.append(quote)
        var i = 0
        while i < s.count {
            let (c, n) = PyUnicode.decode(s, i)
            defer { i += n }
            if c < 0x80 {
                let b = UInt8(c)
                if b == quote || b == UInt8(ascii: "\\") {
                    out.append(UInt8(ascii: "\\"))
                    out.append(b)
                } else if b == 9 {
                    out.append(contentsOf: [92, UInt8(ascii: "t")])
                } else if b == 10 {
                    out.append(contentsOf: [92, UInt8(ascii: "n")])
                } else if b == 13 {
                    out.append(contentsOf: [92, UInt8(ascii: "r")])
                } else if b < 0x20 || b == 0x7F {
                    out.append(contentsOf: [92, UInt8(ascii: "x")])
                    appendHex(c, digits: 2, to: &out)
                } else {
                    out.append(b)
                }
                continue
            }
            if let sc = Unicode.Scalar(c), PyUnicode.isPrintable(sc) {
                out.append(contentsOf: s[i..<i + n])
            } else if c <= 0xFF {
                out.append(contentsOf: [92, UInt8(ascii: "x")])
                appendHex(c, digits: 2, to: &out)
            } else if c <= 0xFFFF {
                out.append(contentsOf: [92, UInt8(ascii: "u")])
                appendHex(c, digits: 4, to: &out)
            } else {
                out.append(contentsOf: [92, UInt8(ascii: "U")])
                appendHex(c, digits: 8, to: &out)
            }
        }
        out.append(quote)
    }

    /// Python's `repr()` of a value, as text.
    static func repr(_ v: Value) -> String {
        var b = PyStringBuilder()
        PyFormat.appendRepr(v, to: &b)
        return String(decoding: b.bytes, as: UTF8.self)
    }

    /// Python's float repr: the shortest digits that round-trip, in Python's layout.
    static func float(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        let (digits, decpt) = shortestDigits(d)
        var out = d < 0 ? "-" : ""
        if decpt <= -4 || decpt > 16 {
            out += String(digits.first ?? "0")
            if digits.count > 1 { out += "." + digits.dropFirst() }
            let e = decpt - 1
            out += e < 0 ? "e-" : "e+"
            let ae = abs(e)
            out += ae < 10 ? "0\(ae)" : "\(ae)"
        } else if decpt <= 0 {
            out += "0." + String(repeating: "0", count: -decpt) + digits
        } else if decpt >= digits.count {
            out += digits + String(repeating: "0", count: decpt - digits.count) + ".0"
        } else {
            let k = digits.index(digits.startIndex, offsetBy: decpt)
            out += digits[..<k] + "." + digits[k...]
        }
        return out
    }

    /// The shortest round-trip digits of |d| (no leading or trailing zeros) and the position of
    /// the decimal point: |d| = 0.DIGITS × 10^decpt. From Swift's own shortest representation.
    static func shortestDigits(_ d: Double) -> (String, Int) {
        let text = "\(abs(d))"
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits = ""
        var pointAt: Int? = nil
        for ch in mantissa {
            if ch == "." { pointAt = digits.count } else { digits.append(ch) }
        }
        var decpt = (pointAt ?? digits.count) + exponent
        while digits.first == "0" && digits.count > 1 {
            digits.removeFirst()
            decpt -= 1
        }
        while digits.last == "0" && digits.count > 1 { digits.removeLast() }
        return (digits, decpt)
    }
}

enum PyFormat {
    /// Python `str(value)`, with provenance.
    static func str(_ v: Value, _ interp: Interpreter? = nil) throws(JinjaError) -> PyString {
        switch v {
        case .string(let s): return s
        case .undefined: return .empty
        case .none: return PyString("None")
        case .bool(let b): return PyString(b ? "True" : "False")
        case .int(let i): return PyString(String(i))
        case .float(let d): return PyString(PyRepr.float(d))
        case .object(let o) where o is LoopContext:
            if let loop = o as? LoopContext, let interp { _ = try loop.length(interp) }
            return PyString(o.repr())
        default:
            var b = PyStringBuilder()
            appendRepr(v, to: &b)
            return b.finish()
        }
    }

    /// Appends Python `repr(value)`; data strings inside are marked as data.
    static func appendRepr(_ v: Value, to b: inout PyStringBuilder) {
        switch v {
        case .undefined: b.appendLiteral("Undefined")
        case .none: b.appendLiteral("None")
        case .bool(let x): b.appendLiteral(x ? "True" : "False")
        case .int(let i): b.appendLiteral(String(i))
        case .float(let d): b.appendLiteral(PyRepr.float(d))
        case .string(let s):
            var q: [UInt8] = []
            PyRepr.appendString(s.utf8, to: &q)
            if s.isMarkup { b.appendLiteral("Markup(") }
            b.append(q, provenance: s.wholeProvenance)
            if s.isMarkup { b.appendLiteral(")") }
        case .list(let l):
            b.appendLiteral(UInt8(ascii: "["))
            for (i, x) in l.items.enumerated() {
                if i > 0 { b.appendLiteral(", ") }
                appendRepr(x, to: &b)
            }
            b.appendLiteral(UInt8(ascii: "]"))
        case .tuple(let l):
            b.appendLiteral(UInt8(ascii: "("))
            for (i, x) in l.items.enumerated() {
                if i > 0 { b.appendLiteral(", ") }
                appendRepr(x, to: &b)
            }
            if l.items.count == 1 { b.appendLiteral(UInt8(ascii: ",")) }
            b.appendLiteral(UInt8(ascii: ")"))
        case .dict(let d):
            b.appendLiteral(UInt8(ascii: "{"))
            for i in 0..<d.count {
                if i > 0 { b.appendLiteral(", ") }
                appendRepr(d.keys[i], to: &b)
                b.appendLiteral(": ")
                appendRepr(d.values[i], to: &b)
            }
            b.appendLiteral(UInt8(ascii: "}"))
        case .object(let o):
            b.appendLiteral(o.repr())
        }
    }

    // MARK: markupsafe

    /// markupsafe's `escape` of a string (Markup stays as it is).
    static func escape(_ s: PyString) -> PyString {
        if s.isMarkup { return s }
        var out = PyStringBuilder()
        var runStart = 0
        for (i, c) in s.utf8.enumerated() {
            let rep: String
            switch c {
            case UInt8(ascii: "&"): rep = "&amp;"
            case UInt8(ascii: "<"): rep = "&lt;"
            case UInt8(ascii: ">"): rep = "&gt;"
            case UInt8(ascii: "\""): rep = "&#34;"
            case UInt8(ascii: "'"): rep = "&#39;"
            default: continue
            }
            out.append(s, bytes: runStart..<i)
            out.append(Array(rep.utf8), provenance: s.provenance.slice(i..<i + 1, length: s.utf8.count))
            runStart = i + 1
        }
        out.append(s, bytes: runStart..<s.utf8.count)
        var r = out.finish()
        r.isMarkup = true
        return r
    }

    static func escape(_ v: Value, _ interp: Interpreter) throws(JinjaError) -> PyString {
        if case .string(let s) = v { return escape(s) }
        return escape(try str(v, interp))
    }

    // MARK: printf-style `%`

    static func cFormat(_ spec: String, _ d: Double) -> String {
        var buf = [CChar](repeating: 0, count: 512)
        let n = withVaList([d]) { vsnprintf(&buf, buf.count, spec, $0) }
        if n >= buf.count {
            buf = [CChar](repeating: 0, count: Int(n) + 1)
            _ = withVaList([d]) { vsnprintf(&buf, buf.count, spec, $0) }
        }
        let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Python's formatting of a finite-or-not float with a C conversion (`e`, `f`, `g`, ...).
    static func formatFloat(_ d: Double, _ type: Character, precision: Int, alternate: Bool) -> String {
        if d.isNaN { return type.isUppercase ? "NAN" : "nan" }
        if d.isInfinite {
            let s = type.isUppercase ? "INF" : "inf"
            return d < 0 ? "-" + s : s
        }
        return cFormat("%\(alternate ? "#" : "").\(min(precision, 400))\(type)", d)
    }

    /// `format % args` for a str (Python's printf-style formatting).
    static func percent(_ format: PyString, _ args: Value, _ interp: Interpreter) throws(JinjaError) -> PyString {
        let f = format.utf8
        var positional: [Value] = []
        var mapping: PyDict? = nil
        switch args {
        case .tuple(let t): positional = t.items
        case .dict(let d):
            mapping = d
            positional = [args]
        default: positional = [args]
        }
        var argIndex = 0
        var out = PyStringBuilder()
        out.markup = format.isMarkup
        var i = 0
        var literalStart = 0
        var usedMapping = false
        func nextArg() throws(JinjaError) -> Value {
            guard argIndex < positional.count else { throw .typeError("not enough arguments for format string") }
            argIndex += 1
            return positional[argIndex - 1]
        }
        while i < f.count {
            guard f[i] == UInt8(ascii: "%") else { i += 1; continue }
            out.append(format, bytes: literalStart..<i)
            let specStart = i
            i += 1
            guard i < f.count else { throw .valueError("incomplete format") }
            var key: Value? = nil
            if f[i] == UInt8(ascii: "(") {
                guard let m = mapping else { throw .typeError("format requires a mapping") }
                var depth = 1
                var j = i + 1
                while j < f.count && depth > 0 {
                    if f[j] == UInt8(ascii: "(") { depth += 1 }
                    if f[j] == UInt8(ascii: ")") { depth -= 1 }
                    j += 1
                }
                if depth > 0 { throw .valueError("incomplete format key") }
                let name = PyString(Array(f[(i + 1)..<(j - 1)]))
                guard let v = try m.get(.string(name)) else { throw .keyError(PyRepr.string(name.string)) }
                key = v
                usedMapping = true
                i = j
            }
            var flags = Set<UInt8>()
            while i < f.count, [UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: " "), UInt8(ascii: "#"), UInt8(ascii: "0")].contains(f[i]) {
                flags.insert(f[i])
                i += 1
            }
            var width: Int? = nil
            if i < f.count && f[i] == UInt8(ascii: "*") {
                guard case .int(let w) = try nextArg() else { throw .typeError("* wants int") }
                width = w
                i += 1
            } else {
                var w = 0, any = false
                while i < f.count, f[i] >= 48, f[i] <= 57 { w = w * 10 + Int(f[i] - 48); i += 1; any = true; if w > 100_000 { break } }
                if any { width = w }
            }
            var precision: Int? = nil
            if i < f.count && f[i] == UInt8(ascii: ".") {
                i += 1
                if i < f.count && f[i] == UInt8(ascii: "*") {
                    guard case .int(let p) = try nextArg() else { throw .typeError("* wants int") }
                    precision = p
                    i += 1
                } else {
                    var p = 0
                    while i < f.count, f[i] >= 48, f[i] <= 57 { p = p * 10 + Int(f[i] - 48); i += 1; if p > 100_000 { break } }
                    precision = p
                }
            }
            while i < f.count, [UInt8(ascii: "h"), UInt8(ascii: "l"), UInt8(ascii: "L")].contains(f[i]) { i += 1 }
            guard i < f.count else { throw .valueError("incomplete format") }
            let type = f[i]
            i += 1
            literalStart = i
            if type == UInt8(ascii: "%") {
                out.appendLiteral(UInt8(ascii: "%"))
                continue
            }
            let arg: Value
            if let key { arg = key } else { arg = try nextArg() }
            var body: PyString
            var numeric = false
            switch type {
            case UInt8(ascii: "s"), UInt8(ascii: "r"), UInt8(ascii: "a"):
                if type == UInt8(ascii: "s") {
                    body = try str(arg, interp)
                } else {
                    var b = PyStringBuilder()
                    appendRepr(arg, to: &b)
                    body = b.finish()
                }
                if format.isMarkup { body = escape(body) }
                if let p = precision {
                    let offs = body.scalarOffsets()
                    if p < offs.count - 1 { body = body.slice(0..<offs[p]) }
                }
            case UInt8(ascii: "d"), UInt8(ascii: "i"), UInt8(ascii: "u"):
                numeric = true
                let n: Int
                switch arg {
                case .int(let x): n = x
                case .bool(let x): n = x ? 1 : 0
                case .float(let x):
                    guard x.isFinite, abs(x) < 9.2e18 else { throw .overflow("cannot convert float to integer") }
                    n = Int(x)
                default: throw .typeError("%\(Character(Unicode.Scalar(type))) format: a real number is required, not \(arg.typeName)")
                }
                var digits = String(n.magnitude)
                if let p = precision, digits.count < p { digits = String(repeating: "0", count: p - digits.count) + digits }
                body = PyString(signed(digits, negative: n < 0, flags))
            case UInt8(ascii: "x"), UInt8(ascii: "X"), UInt8(ascii: "o"):
                numeric = true
                let n: Int
                switch arg {
                case .int(let x): n = x
                case .bool(let x): n = x ? 1 : 0
                default: throw .typeError("%\(Character(Unicode.Scalar(type))) format: an integer is required, not \(arg.typeName)")
                }
                var digits = String(n.magnitude, radix: type == UInt8(ascii: "o") ? 8 : 16, uppercase: type == UInt8(ascii: "X"))
                if let p = precision, digits.count < p { digits = String(repeating: "0", count: p - digits.count) + digits }
                if flags.contains(UInt8(ascii: "#")) {
                    digits = (type == UInt8(ascii: "o") ? "0o" : type == UInt8(ascii: "X") ? "0X" : "0x") + digits
                }
                body = PyString(signed(digits, negative: n < 0, flags))
            case UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "g"), UInt8(ascii: "G"):
                numeric = true
                guard let num = Interpreter.number(arg) else {
                    throw .typeError("must be real number, not \(arg.typeName)")
                }
                let d = Interpreter.asDouble(num)
                var s = formatFloat(abs(d), Character(Unicode.Scalar(type)), precision: precision ?? 6, alternate: flags.contains(UInt8(ascii: "#")))
                if s.hasPrefix("-") { s.removeFirst() }
                body = PyString(signed(s, negative: d.sign == .minus && !d.isNaN, flags))
            case UInt8(ascii: "c"):
                switch arg {
                case .int(let x):
                    guard let sc = Unicode.Scalar(UInt32(truncatingIfNeeded: x)), x >= 0 else { throw .overflow("%c arg not in range(0x110000)") }
                    body = PyString(String(sc))
                case .string(let s) where s.count == 1: body = s
                default: throw .typeError("%c requires int or char")
                }
            default:
                throw .valueError("unsupported format character \(PyRepr.string(String(Unicode.Scalar(type)))) (0x\(String(type, radix: 16))) at index \(PyUnicode.scalarCount(f, 0, specStart) + (i - specStart - 1))")
            }
            if let w = width {
                let n = body.count
                if n < w {
                    let pad = w - n
                    if flags.contains(UInt8(ascii: "-")) {
                        out.append(body)
                        out.appendLiteral(String(repeating: " ", count: pad))
                        continue
                    }
                    if numeric && flags.contains(UInt8(ascii: "0")) {
                        var s = body.string
                        var sign = ""
                        if let c = s.first, c == "-" || c == "+" || c == " " { sign = String(c); s.removeFirst() }
                        var prefix = ""
                        if s.hasPrefix("0x") || s.hasPrefix("0X") || s.hasPrefix("0o") {
                            prefix = String(s.prefix(2))
                            s.removeFirst(2)
                        }
                        out.appendLiteral(sign + prefix + String(repeating: "0", count: pad) + s)
                        continue
                    }
                    out.appendLiteral(String(repeating: " ", count: pad))
                }
            }
            out.append(body)
            try interp.budget.string(out.count)
        }
        out.append(format, bytes: literalStart..<f.count)
        if mapping == nil || !usedMapping {
            if argIndex < positional.count && !(mapping != nil && positional.count == 1) {
                throw .typeError("not all arguments converted during string formatting")
            }
        }
        return out.finish()
    }

    static func signed(_ digits: String, negative: Bool, _ flags: Set<UInt8>) -> String {
        if negative { return "-" + digits }
        if flags.contains(UInt8(ascii: "+")) { return "+" + digits }
        if flags.contains(UInt8(ascii: " ")) { return " " + digits }
        return digits
    }
}

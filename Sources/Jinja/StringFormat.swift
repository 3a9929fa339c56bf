// `str.format` as jinja2's sandbox runs it (`SandboxedFormatter`: Python's `string.Formatter`
// whose `{0.attr}` and `{0[key]}` go through the sandbox's getattr/getitem), and Python's
// format-spec mini-language for str, int and float: `[[fill]align][sign][z][#][0][width]
// [grouping][.precision][type]`.

enum PyStrFormat {
    /// `template.format(*args, **kwargs)`.
    static func format(_ template: PyString, _ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> PyString {
        var auto = 0
        var mode = 0  // 0 unknown, 1 automatic numbering, 2 manual
        var out = PyStringBuilder()
        try render(template, args, interp, depth: 2, auto: &auto, mode: &mode, into: &out)
        out.markup = template.isMarkup
        return out.finish()
    }

    static func render(_ t: PyString, _ args: Arguments, _ interp: Interpreter, depth: Int,
                       auto: inout Int, mode: inout Int, into out: inout PyStringBuilder) throws(JinjaError) {
        if depth < 0 { throw .valueError("Max string recursion exceeded") }
        let b = t.utf8
        var i = 0
        var literalStart = 0
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "}") {
                out.append(t, bytes: literalStart..<i)
                guard i + 1 < b.count, b[i + 1] == UInt8(ascii: "}") else {
                    throw .valueError("Single '}' encountered in format string")
                }
                out.appendLiteral(UInt8(ascii: "}"))
                i += 2
                literalStart = i
                continue
            }
            guard c == UInt8(ascii: "{") else { i += 1; continue }
            out.append(t, bytes: literalStart..<i)
            if i + 1 < b.count && b[i + 1] == UInt8(ascii: "{") {
                out.appendLiteral(UInt8(ascii: "{"))
                i += 2
                literalStart = i
                continue
            }
            guard i + 1 < b.count else { throw .valueError("Single '{' encountered in format string") }
            // Find the end of the field, counting nested braces (of the format spec).
            var j = i + 1
            var nest = 1
            var inBracket = false
            while j < b.count {
                let d = b[j]
                if inBracket {
                    if d == UInt8(ascii: "]") { inBracket = false }
                } else if d == UInt8(ascii: "[") {
                    inBracket = true
                } else if d == UInt8(ascii: "{") {
                    nest += 1
                } else if d == UInt8(ascii: "}") {
                    nest -= 1
                    if nest == 0 { break }
                }
                j += 1
            }
            guard j < b.count else { throw .valueError("expected '}' before end of string") }
            let field = Array(b[(i + 1)..<j])
            try renderField(field, args, interp, depth: depth, auto: &auto, mode: &mode, into: &out)
            try interp.budget.string(out.count)
            i = j + 1
            literalStart = i
        }
        out.append(t, bytes: literalStart..<b.count)
    }

    static func renderField(_ field: [UInt8], _ args: Arguments, _ interp: Interpreter, depth: Int,
                            auto: inout Int, mode: inout Int, into out: inout PyStringBuilder) throws(JinjaError) {
        // field_name [! conversion] [: format_spec]
        var k = 0
        var inBracket = false
        while k < field.count {
            let d = field[k]
            if inBracket {
                if d == UInt8(ascii: "]") { inBracket = false }
            } else if d == UInt8(ascii: "[") {
                inBracket = true
            } else if d == UInt8(ascii: "!") || d == UInt8(ascii: ":") {
                break
            }
            k += 1
        }
        let name = Array(field[..<k])
        var conversion: UInt8? = nil
        var specBytes: [UInt8] = []
        if k < field.count && field[k] == UInt8(ascii: "!") {
            guard k + 1 < field.count else { throw .valueError("end of string while looking for conversion specifier") }
            conversion = field[k + 1]
            k += 2
            if k < field.count && field[k] != UInt8(ascii: ":") { throw .valueError("expected ':' after conversion specifier") }
        }
        if k < field.count && field[k] == UInt8(ascii: ":") { specBytes = Array(field[(k + 1)...]) }

        // The object: first part (index or keyword), then .attr / [key] parts.
        var p = 0
        while p < name.count && name[p] != UInt8(ascii: ".") && name[p] != UInt8(ascii: "[") { p += 1 }
        let first = Array(name[..<p])
        var obj: Value
        if first.isEmpty {
            if mode == 2 { throw .valueError("cannot switch from manual field specification to automatic field numbering") }
            mode = 1
            let idx = auto
            auto += 1
            guard idx < args.positional.count else {
                throw .indexError("tuple index out of range")
            }
            obj = args.positional[idx]
        } else if first.allSatisfy({ $0 >= 48 && $0 <= 57 }), let idx = Int(String(decoding: first, as: UTF8.self)) {
            if mode == 1 { throw .valueError("cannot switch from automatic field numbering to manual field specification") }
            mode = 2
            guard idx < args.positional.count else {
                throw .indexError("tuple index out of range")
            }
            obj = args.positional[idx]
        } else {
            let key = String(decoding: first, as: UTF8.self)
            guard let v = args.keyword(key) else { throw .keyError(PyRepr.string(key)) }
            obj = v
        }
        while p < name.count {
            if name[p] == UInt8(ascii: ".") {
                var q = p + 1
                while q < name.count && name[q] != UInt8(ascii: ".") && name[q] != UInt8(ascii: "[") { q += 1 }
                if q == p + 1 { throw .valueError("Empty attribute in format string") }
                obj = try interp.getattr(obj, Name(PyString(Array(name[(p + 1)..<q]))))
                p = q
            } else {
                var q = p + 1
                while q < name.count && name[q] != UInt8(ascii: "]") { q += 1 }
                guard q < name.count else { throw .valueError("Missing ']' in format string") }
                let keyBytes = Array(name[(p + 1)..<q])
                if keyBytes.isEmpty { throw .valueError("Empty attribute in format string") }
                let key: Value = keyBytes.allSatisfy({ $0 >= 48 && $0 <= 57 })
                    ? .int(Int(String(decoding: keyBytes, as: UTF8.self)) ?? 0) : .string(PyString(keyBytes))
                obj = try interp.getitem(obj, key)
                p = q + 1
                if p < name.count && name[p] != UInt8(ascii: ".") && name[p] != UInt8(ascii: "[") {
                    throw .valueError("Only '.' or '[' may follow ']' in format field specifier")
                }
            }
        }
        if let conv = conversion {
            switch conv {
            case UInt8(ascii: "s"): obj = .string(try PyFormat.str(obj, interp))
            case UInt8(ascii: "r"), UInt8(ascii: "a"): obj = .str(PyRepr.repr(obj))
            default:
                throw .valueError("Unknown conversion specifier \(String(Unicode.Scalar(conv)))")
            }
        }
        // The spec may hold nested fields.
        var specOut = PyStringBuilder()
        try render(PyString(specBytes), args, interp, depth: depth - 1, auto: &auto, mode: &mode, into: &specOut)
        out.append(try formatValue(obj, spec: specOut.bytes, interp))
    }

    struct Spec {
        var fill: String = " "
        var align: UInt8? = nil
        var sign: UInt8? = nil
        var z = false
        var alternate = false
        var zero = false
        var width = 0
        var grouping: UInt8? = nil
        var precision: Int? = nil
        var type: UInt8? = nil
    }

    static func parseSpec(_ s: [UInt8]) throws(JinjaError) -> Spec {
        var spec = Spec()
        var i = 0
        func isAlign(_ c: UInt8) -> Bool { c == UInt8(ascii: "<") || c == UInt8(ascii: ">") || c == UInt8(ascii: "^") || c == UInt8(ascii: "=") }
        if !s.isEmpty {
            let (_, n) = PyUnicode.decode(s, 0)
            if n < s.count && isAlign(s[n]) {
                spec.fill = String(decoding: s[0..<n], as: UTF8.self)
                spec.align = s[n]
                i = n + 1
            } else if isAlign(s[0]) {
                spec.align = s[0]
                i = 1
            }
        }
        if i < s.count && (s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: " ")) {
            spec.sign = s[i]
            i += 1
        }
        if i < s.count && s[i] == UInt8(ascii: "z") { spec.z = true; i += 1 }
        if i < s.count && s[i] == UInt8(ascii: "#") { spec.alternate = true; i += 1 }
        if i < s.count && s[i] == UInt8(ascii: "0") {
            spec.zero = true
            i += 1
        }
        while i < s.count, s[i] >= 48, s[i] <= 57 {
            spec.width = spec.width * 10 + Int(s[i] - 48)
            if spec.width > 100_000 { throw .valueError("Too many decimal digits in format string") }
            i += 1
        }
        if i < s.count && (s[i] == UInt8(ascii: ",") || s[i] == UInt8(ascii: "_")) {
            spec.grouping = s[i]
            i += 1
        }
        if i < s.count && s[i] == UInt8(ascii: ".") {
            i += 1
            var p = 0
            var any = false
            while i < s.count, s[i] >= 48, s[i] <= 57 {
                p = p * 10 + Int(s[i] - 48)
                if p > 100_000 { throw .valueError("Too many decimal digits in format string") }
                i += 1
                any = true
            }
            if !any { throw .valueError("Format specifier missing precision") }
            spec.precision = p
        }
        if i < s.count {
            spec.type = s[i]
            i += 1
        }
        if i < s.count { throw .valueError("Invalid format specifier") }
        return spec
    }

    /// Python's `format(value, spec)`.
    static func formatValue(_ v: Value, spec specBytes: [UInt8], _ interp: Interpreter) throws(JinjaError) -> PyString {
        if specBytes.isEmpty { return try PyFormat.str(v, interp) }
        let spec = try parseSpec(specBytes)
        switch v {
        case .string(let s):
            if let t = spec.type, t != UInt8(ascii: "s") {
                throw .valueError("Unknown format code '\(String(Unicode.Scalar(t)))' for object of type 'str'")
            }
            if spec.sign != nil { throw .valueError("Sign not allowed in string format specifier") }
            if spec.alternate { throw .valueError("Alternate form (#) not allowed in string format specifier") }
            if spec.align == UInt8(ascii: "=") { throw .valueError("'=' alignment not allowed in string format specifier") }
            var body = s
            if let p = spec.precision {
                let offs = s.scalarOffsets()
                if p < offs.count - 1 { body = s.slice(0..<offs[p]) }
            }
            var sp = spec
            if sp.zero && sp.align == nil { sp.fill = "0" }
            return pad(body, sp, defaultAlign: UInt8(ascii: "<"))
        case .int, .bool:
            let n: Int
            if case .int(let x) = v { n = x } else if case .bool(let b) = v { n = b ? 1 : 0 } else { n = 0 }
            if let t = spec.type, [UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "f"), UInt8(ascii: "F"),
                                   UInt8(ascii: "g"), UInt8(ascii: "G"), UInt8(ascii: "%")].contains(t) {
                return try formatFloat(Double(n), spec)
            }
            if spec.precision != nil { throw .valueError("Precision not allowed in integer format specifier") }
            var digits: String
            var prefix = ""
            switch spec.type {
            case nil, UInt8(ascii: "d"), UInt8(ascii: "n"): digits = String(n.magnitude)
            case UInt8(ascii: "b"): digits = String(n.magnitude, radix: 2); prefix = "0b"
            case UInt8(ascii: "o"): digits = String(n.magnitude, radix: 8); prefix = "0o"
            case UInt8(ascii: "x"): digits = String(n.magnitude, radix: 16); prefix = "0x"
            case UInt8(ascii: "X"): digits = String(n.magnitude, radix: 16, uppercase: true); prefix = "0X"
            case UInt8(ascii: "c"):
                guard n >= 0, let sc = Unicode.Scalar(UInt32(truncatingIfNeeded: n)) else { throw .overflow("%c arg not in range(0x110000)") }
                return pad(PyString(String(sc)), spec, defaultAlign: UInt8(ascii: "<"))
            case .some(let t):
                throw .valueError("Unknown format code '\(String(Unicode.Scalar(t)))' for object of type '\(v.typeName)'")
            }
            if let g = spec.grouping {
                let every = (spec.type == nil || spec.type == UInt8(ascii: "d")) ? 3 : 4
                digits = group(digits, String(Unicode.Scalar(g)), every)
            }
            if !spec.alternate { prefix = "" }
            return numeric(sign: n < 0 ? "-" : signFor(spec), prefix + digits, spec)
        case .float(let d):
            return try formatFloat(d, spec)
        default:
            throw .typeError("unsupported format string passed to \(v.typeName).__format__")
        }
    }

    static func signFor(_ spec: Spec) -> String {
        switch spec.sign {
        case UInt8(ascii: "+"): return "+"
        case UInt8(ascii: " "): return " "
        default: return ""
        }
    }

    static func group(_ digits: String, _ sep: String, _ every: Int) -> String {
        var out: [Character] = []
        for (i, c) in digits.reversed().enumerated() {
            if i > 0 && i % every == 0 { out.append(contentsOf: sep) }
            out.append(c)
        }
        return String(out.reversed())
    }

    static func formatFloat(_ d: Double, _ spec: Spec) throws(JinjaError) -> PyString {
        var body: String
        let negative = d.sign == .minus && !d.isNaN
        let a = abs(d)
        switch spec.type {
        case nil:
            if let p = spec.precision {
                body = PyFormat.formatFloat(a, "g", precision: max(p, 1), alternate: spec.alternate)
                if a.isFinite && !body.contains(".") && !body.contains("e") { body += ".0" }
            } else {
                body = PyRepr.float(a)
            }
        case UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "g"), UInt8(ascii: "G"):
            body = PyFormat.formatFloat(a, Character(Unicode.Scalar(spec.type ?? 103)), precision: spec.precision ?? 6, alternate: spec.alternate)
        case UInt8(ascii: "n"):
            body = PyFormat.formatFloat(a, "g", precision: spec.precision ?? 6, alternate: spec.alternate)
        case UInt8(ascii: "%"):
            body = PyFormat.formatFloat(a * 100, "f", precision: spec.precision ?? 6, alternate: spec.alternate) + "%"
        case .some(let t):
            throw .valueError("Unknown format code '\(String(Unicode.Scalar(t)))' for object of type 'float'")
        }
        if let g = spec.grouping, a.isFinite {
            let intEnd = body.firstIndex(where: { !$0.isNumber }) ?? body.endIndex
            body = group(String(body[..<intEnd]), String(Unicode.Scalar(g)), 3) + body[intEnd...]
        }
        var sign = negative ? "-" : signFor(spec)
        if spec.z && negative && body.allSatisfy({ $0 == "0" || $0 == "." || $0 == "%" }) { sign = signFor(spec) }
        return numeric(sign: sign, body, spec)
    }

    /// Pads a number: '=' alignment (and the `0` flag) pads between the sign and the digits.
    static func numeric(sign: String, _ body: String, _ spec: Spec) -> PyString {
        var sp = spec
        if sp.zero && sp.align == nil {
            sp.fill = "0"
            sp.align = UInt8(ascii: "=")
        }
        let total = sign.count + body.count
        if sp.align == UInt8(ascii: "=") && total < sp.width {
            return PyString(sign + String(repeating: sp.fill, count: sp.width - total) + body)
        }
        return pad(PyString(sign + body), sp, defaultAlign: UInt8(ascii: ">"))
    }

    static func pad(_ s: PyString, _ spec: Spec, defaultAlign: UInt8) -> PyString {
        let n = s.count
        guard n < spec.width else { return s }
        let total = spec.width - n
        var left = 0
        switch spec.align ?? defaultAlign {
        case UInt8(ascii: ">"), UInt8(ascii: "="): left = total
        case UInt8(ascii: "^"): left = total / 2
        default: left = 0
        }
        var b = PyStringBuilder()
        b.appendLiteral(String(repeating: spec.fill, count: left))
        b.append(s)
        b.appendLiteral(String(repeating: spec.fill, count: total - left))
        return b.finish()
    }
}

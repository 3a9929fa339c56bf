// Filters, number and text formatting: Python's float() and int() as the filters read them,
// round, indent, title, truncate, filesizeformat, striptags, urlencode, xmlattr.

extension Interpreter {
    static func toFloat(_ v: Value) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .bool(let b): return b ? 1 : 0
        case .float(let d): return d
        case .string(let s): return parseFloat(s.string)
        default: return nil
        }
    }

    /// Python's `float(str)`: white space around, `_` between digits, inf/nan.
    static func parseFloat(_ text: String) -> Double? {
        var t = text.trimmingWhitespace().lowercased()
        if t.contains("_") {
            let chars = Array(t)
            for (i, c) in chars.enumerated() where c == "_" {
                guard i > 0, i < chars.count - 1, chars[i - 1].isNumber, chars[i + 1].isNumber else { return nil }
            }
            t = t.replacingAll( "_", with: "")
        }
        var body = Substring(t)
        var sign = 1.0
        if body.first == "+" || body.first == "-" {
            if body.first == "-" { sign = -1 }
            body = body.dropFirst()
        }
        switch body {
        case "inf", "infinity": return sign * .infinity
        case "nan": return .nan
        default: break
        }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "+" || $0 == "-") }),
              body.contains(where: { $0.isNumber }) else { return nil }
        guard let d = Double(String(body)) else { return nil }
        return sign * d
    }

    /// jinja2's `int` filter: `int(value)`, or `int(float(value))` for "42.23", else nil.
    static func toInt(_ v: Value, base: Int) -> Int? {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        case .float(let d):
            guard d.isFinite, Swift.abs(d) < 9.2e18 else { return nil }
            return Int(d)
        case .string(let s):
            var t = s.string.trimmingWhitespace().lowercased().replacingAll( "_", with: "")
            var negative = false
            if t.hasPrefix("-") || t.hasPrefix("+") {
                negative = t.hasPrefix("-")
                t.removeFirst()
            }
            var b = base
            if b == 0 || b == 16, t.hasPrefix("0x") { t.removeFirst(2); b = 16 }
            else if b == 0 || b == 8, t.hasPrefix("0o") { t.removeFirst(2); b = 8 }
            else if b == 0 || b == 2, t.hasPrefix("0b") { t.removeFirst(2); b = 2 }
            if b == 0 { b = 10 }
            if (2...36).contains(b), !t.isEmpty, let i = Int(t, radix: b) { return negative ? -i : i }
            if let d = parseFloat(s.string), d.isFinite, Swift.abs(d) < 9.2e18 { return Int(d) }
            return nil
        default:
            return nil
        }
    }

    func round(_ v: Value, _ precision: Int, _ method: String) throws(JinjaError) -> Value {
        guard let n = Interpreter.number(v) else {
            if case .undefined(let u) = v { throw u.error }
            throw .typeError("type \(v.typeName) doesn't define __round__ method")
        }
        if method == "common" {
            switch n {
            case .int(let i):
                if precision >= 0 { return .int(i) }
                var p = 1
                for _ in 0..<Swift.min(-precision, 19) { p = p.multipliedReportingOverflow(by: 10).partialValue }
                let q = Double(i) / Double(p)
                return .int(Int(q.rounded(.toNearestOrEven)) * p)
            case .float(let d):
                guard d.isFinite else { return .float(d) }
                if precision > 300 { return .float(d) }
                if precision >= 0 {
                    return .float(Double(PyFormat.cFormat("%.\(precision)f", d)) ?? d)
                }
                let p = Foundation_pow(10, Double(-precision))
                return .float((d / p).rounded(.toNearestOrEven) * p)
            }
        }
        let d = Interpreter.asDouble(n)
        let scale = Foundation_pow(10, Double(precision))
        let x = method == "ceil" ? (d * scale).rounded(.up) : (d * scale).rounded(.down)
        return .float(x / scale)
    }

    func indent(_ s: PyString, width: Value, first: Bool, blank: Bool, raw: Value) throws(JinjaError) -> PyString {
        let indention: PyString
        if case .string(let w) = width {
            indention = w
        } else {
            let n = Swift.max(0, try PythonMethods.intArg(width))
            if n > budget.limits.maxStringBytes { throw Budget.stringError(n, budget.limits.maxStringBytes) }
            indention = PyString(String(repeating: " ", count: n))
        }
        var withNewline = PyStringBuilder()
        withNewline.append(s)
        withNewline.appendLiteral("\n")
        let lines = PythonMethods.splitlines(withNewline.finish(), keepends: false)
        var b = PyStringBuilder()
        if first { b.append(indention) }
        for (i, line) in lines.enumerated() {
            if i > 0 {
                b.appendLiteral("\n")
                if blank || !line.isEmpty { b.append(indention) }
            }
            b.append(line)
            try budget.string(b.count)
        }
        b.markup = s.isMarkup
        return b.finish()
    }

    /// jinja2's `title` filter: capitalizes words split at white space and `-({[<`.
    func jinjaTitle(_ s: PyString) -> PyString {
        var b = PyStringBuilder()
        var i = 0
        let bytes = s.utf8
        func isBoundary(_ c: UInt32) -> Bool {
            PyUnicode.isSpace(c) || c == 0x2D || c == 0x28 || c == 0x7B || c == 0x5B || c == 0x3C
        }
        while i < bytes.count {
            let start = i
            let (c, n) = PyUnicode.decode(bytes, i)
            if isBoundary(c) {
                i += n
                while i < bytes.count {
                    let (d, m) = PyUnicode.decode(bytes, i)
                    if !isBoundary(d) { break }
                    i += m
                }
                b.append(s, bytes: start..<i)
                continue
            }
            i += n
            while i < bytes.count {
                let (d, m) = PyUnicode.decode(bytes, i)
                if isBoundary(d) { break }
                i += m
            }
            b.append(PythonMethods.caseMap(s.slice(start..<start + n), .upper))
            b.append(PythonMethods.caseMap(s.slice(start + n..<i), .lower))
        }
        b.markup = s.isMarkup
        return b.finish()
    }

    func truncate(_ s: PyString, _ p: [Value?]) throws(JinjaError) -> PyString {
        let length = try p[0].map { (x) throws(JinjaError) in try PythonMethods.intArg(x) } ?? 255
        let killwords = p[1]?.isTruthy ?? false
        let end = try p[2].map { (x) throws(JinjaError) in try PyFormat.str(x, self) } ?? PyString("...")
        let leeway = try p[3].flatMap { (x) throws(JinjaError) -> Int? in x.isNone ? nil : try PythonMethods.intArg(x) } ?? 5
        if length < end.count { throw JinjaError(.evaluation, "AssertionError", "expected length >= \(end.count), got \(length)") }
        if leeway < 0 { throw JinjaError(.evaluation, "AssertionError", "expected leeway >= 0, got \(leeway)") }
        if s.count <= length.addingReportingOverflow(leeway).partialValue || length > Int.max - leeway { return s }
        let offs = s.scalarOffsets()
        let cut = s.slice(0..<offs[Swift.min(length - end.count, offs.count - 1)])
        var b = PyStringBuilder()
        if killwords {
            b.append(cut)
        } else {
            let parts = PythonMethods.rsplit(cut, [UInt8(ascii: " ")], 1)
            b.append(parts[0])
        }
        b.append(end)
        return b.finish()
    }

    func fileSize(_ v: Value, binary: Bool) throws(JinjaError) -> String {
        guard let bytes = Interpreter.toFloat(v) else {
            throw .valueError("could not convert string to float: \(PyRepr.repr(v))")
        }
        let base = binary ? 1024.0 : 1000.0
        let prefixes = binary ? ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"] : ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
        if bytes == 1 { return "1 Byte" }
        if bytes < base { return "\(Int(bytes)) Bytes" }
        var unit = base
        for (i, prefix) in prefixes.enumerated() {
            unit = Foundation_pow(base, Double(i + 2))
            if bytes < unit || i == prefixes.count - 1 {
                return PyFormat.cFormat("%.1f", base * bytes / unit) + " " + prefix
            }
        }
        return ""
    }

    func stripTags(_ s: PyString) throws(JinjaError) -> PyString {
        var text = s.string
        while let open = text.firstRange(of: "<!--"), let close = text.firstRange(of: "-->", in: open.upperBound..<text.endIndex) {
            text.removeSubrange(open.lowerBound..<close.upperBound)
        }
        var out = ""
        var inTag = false
        for ch in text {
            if ch == "<" { inTag = true; continue }
            if ch == ">" && inTag { inTag = false; continue }
            if !inTag { out.append(ch) }
        }
        let words = PythonMethods.splitWhitespace(PyString(out), -1).map(\.string).joined(separator: " ")
        let unescaped = words.replacingAll( "&lt;", with: "<").replacingAll( "&gt;", with: ">")
            .replacingAll( "&#34;", with: "\"").replacingAll( "&#39;", with: "'")
            .replacingAll( "&quot;", with: "\"").replacingAll( "&amp;", with: "&")
        return PyString(Array(unescaped.utf8), s.wholeProvenance)
    }

    func urlQuote(_ v: Value, forQuery: Bool) throws(JinjaError) -> String {
        let s = try PyFormat.str(v, self)
        var out = ""
        for b in s.utf8 {
            let c = Character(Unicode.Scalar(b))
            if b < 0x80 && (c.isLetter || c.isNumber || "_.-~".contains(c) || (!forQuery && c == "/")) {
                out.append(c)
            } else {
                out += "%" + String(b, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return forQuery ? out.replacingAll( "%20", with: "+") : out
    }

    func urlencode(_ v: Value) throws(JinjaError) -> String {
        var pairs: [(Value, Value)] = []
        switch v {
        case .string, .int, .float, .bool, .none, .undefined: return try urlQuote(v, forQuery: false)
        case .dict(let d): pairs = Array(zip(d.keys, d.values))
        default:
            for item in try list(v) {
                let kv = try unpack(item, 2)
                pairs.append((kv[0], kv[1]))
            }
        }
        var parts: [String] = []
        for (k, x) in pairs { parts.append("\(try urlQuote(k, forQuery: true))=\(try urlQuote(x, forQuery: true))") }
        return parts.joined(separator: "&")
    }

    func xmlattr(_ v: Value, autospace: Bool) throws(JinjaError) -> String {
        guard case .dict(let d) = v else { throw .attributeError("'\(v.typeName)' object has no attribute 'items'") }
        var items: [String] = []
        for (k, x) in zip(d.keys, d.values) {
            if x.isNone || x.isUndefined { continue }
            let key = try PyFormat.str(k, self).string
            if key.contains(where: { $0.isWhitespace || $0 == "/" || $0 == ">" || $0 == "=" }) {
                throw .valueError("Invalid character in attribute name: \(PyRepr.string(key))")
            }
            items.append("\(PyFormat.escape(PyString(key)).string)=\"\(try PyFormat.escape(x, self).string)\"")
        }
        let rv = items.joined(separator: " ")
        return autospace && !rv.isEmpty ? " " + rv : rv
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }

    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }
}

extension StringProtocol {
    func firstRange(of target: String, in searchRange: Range<Index>? = nil) -> Range<Index>? {
        let hay = searchRange.map { self[$0] } ?? self[startIndex..<endIndex]
        guard !target.isEmpty else { return nil }
        var i = hay.startIndex
        while i < hay.endIndex {
            if hay[i...].hasPrefix(target) {
                return i..<hay.index(i, offsetBy: target.count)
            }
            i = hay.index(after: i)
        }
        return nil
    }
}

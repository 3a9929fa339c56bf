// transformers' `tojson` filter: `json.dumps(x, ensure_ascii=False, indent=None,
// separators=None, sort_keys=False)`, Python's encoder byte for byte:
// - separators default to (", ", ": "), or ("," , ": ") when an indent is given; indent is a
//   number of spaces or a string; empty lists and dicts stay `[]`/`{}`;
// - floats as Python's repr (NaN, Infinity, -Infinity allowed); dict keys that are numbers,
//   booleans or None become strings ("1", "true", "null"), other keys are a TypeError;
// - `sort_keys` sorts with Python's ordering (mixed key types are a TypeError);
// - strings escape `"`, `\` and control characters (`\n`, `\u001b`); with `ensure_ascii` every
//   character outside ' '...'~' becomes \uXXXX (surrogate pairs above U+FFFF);
// - anything else (Undefined, a generator, a namespace) is
//   `TypeError: Object of type X is not JSON serializable`.
// A data string's quoted form is data in the output's provenance.

enum PythonJSON {
    struct Options {
        var ensureASCII: Bool
        var indent: [UInt8]?
        var itemSeparator: [UInt8]
        var keySeparator: [UInt8]
        var sortKeys: Bool
    }

    static func dumps(_ v: Value, ensureASCII: Bool, indent: Value, separators: Value, sortKeys: Bool,
                      _ interp: Interpreter) throws(JinjaError) -> PyString {
        var indentText: [UInt8]? = nil
        switch indent {
        case .none: break
        case .string(let s): indentText = s.utf8
        case .int, .bool:
            let n = try PythonMethods.intArg(indent)
            if n > 1000 { throw Budget.stringError(n, interp.budget.limits.maxStringBytes) }
            indentText = Array(repeating: UInt8(ascii: " "), count: max(n, 0))
        default:
            throw .typeError("can't multiply sequence by non-int of type '\(indent.typeName)'")
        }
        var item: [UInt8] = indentText == nil ? Array(", ".utf8) : Array(",".utf8)
        var key: [UInt8] = Array(": ".utf8)
        if !separators.isNone {
            let parts = try interp.unpack(separators, 2)
            guard case .string(let i) = parts[0], case .string(let k) = parts[1] else {
                throw .typeError("separators must be strings")
            }
            item = i.utf8
            key = k.utf8
        }
        let options = Options(ensureASCII: ensureASCII, indent: indentText, itemSeparator: item, keySeparator: key, sortKeys: sortKeys)
        var out = PyStringBuilder()
        try encode(v, options, level: 0, into: &out, interp)
        return out.finish()
    }

    static func newline(_ o: Options, _ level: Int, into out: inout PyStringBuilder) {
        guard let ind = o.indent else { return }
        out.bytes.append(UInt8(ascii: "\n"))
        for _ in 0..<level { out.bytes.append(contentsOf: ind) }
    }

    /// Writes the decimal digits of `i` (no String made).
    static func appendInt(_ i: Int, into out: inout [UInt8]) {
        if i < 0 { out.append(UInt8(ascii: "-")) }
        var m = i.magnitude
        if m < 10 {
            out.append(UInt8(48 + m))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while m > 0 {
                buf[n] = UInt8(48 + m % 10)
                m /= 10
                n += 1
            }
            for k in stride(from: n - 1, through: 0, by: -1) { out.append(buf[k]) }
        }
    }

    static func encode(_ v: Value, _ o: Options, level: Int, into out: inout PyStringBuilder, _ interp: Interpreter) throws(JinjaError) {
        try interp.budget.string(out.count)
        switch v {
        case .none: out.bytes.append(contentsOf: [110, 117, 108, 108])
        case .bool(let b): out.appendLiteral(b ? "true" : "false")
        case .int(let i): appendInt(i, into: &out.bytes)
        case .float(let d): out.appendLiteral(floatText(d))
        case .string(let s): appendString(s, o.ensureASCII, into: &out)
        case .list(let l), .tuple(let l):
            if l.items.isEmpty {
                out.bytes.append(contentsOf: [91, 93])
                return
            }
            out.bytes.append(UInt8(ascii: "["))
            newline(o, level + 1, into: &out)
            for (i, x) in l.items.enumerated() {
                if i > 0 {
                    out.bytes.append(contentsOf: o.itemSeparator)
                    newline(o, level + 1, into: &out)
                }
                try encode(x, o, level: level + 1, into: &out, interp)
            }
            newline(o, level, into: &out)
            out.bytes.append(UInt8(ascii: "]"))
        case .dict(let d):
            if d.count == 0 {
                out.bytes.append(contentsOf: [123, 125])
                return
            }
            out.bytes.append(UInt8(ascii: "{"))
            newline(o, level + 1, into: &out)
            if o.sortKeys {
                var order = Array(0..<d.count)
                var failure: JinjaError? = nil
                order.sort { a, b in
                    if failure != nil { return false }
                    do throws(JinjaError) { return try interp.order(d.keys[a], d.keys[b], "<") < 0 } catch { failure = error; return false }
                }
                if let failure { throw failure }
                for (n, i) in order.enumerated() { try member(d, i, first: n == 0, o, level, into: &out, interp) }
            } else {
                for i in 0..<d.count { try member(d, i, first: i == 0, o, level, into: &out, interp) }
            }
            newline(o, level, into: &out)
            out.bytes.append(UInt8(ascii: "}"))
        case .undefined, .object:
            throw .typeError("Object of type \(v.typeName) is not JSON serializable")
        }
    }

    static func member(_ d: PyDict, _ i: Int, first: Bool, _ o: Options, _ level: Int, into out: inout PyStringBuilder,
                       _ interp: Interpreter) throws(JinjaError) {
        if !first {
            out.bytes.append(contentsOf: o.itemSeparator)
            newline(o, level + 1, into: &out)
        }
        switch d.keys[i] {
        case .string(let s): appendString(s, o.ensureASCII, into: &out)
        case .float(let f): appendString(PyString(floatText(f)), o.ensureASCII, into: &out)
        case .bool(let b): appendString(PyString(b ? "true" : "false"), o.ensureASCII, into: &out)
        case .none: appendString(PyString("null"), o.ensureASCII, into: &out)
        case .int(let x): appendString(PyString(String(x)), o.ensureASCII, into: &out)
        default:
            throw .typeError("keys must be str, int, float, bool or None, not \(d.keys[i].typeName)")
        }
        out.bytes.append(contentsOf: o.keySeparator)
        try encode(d.values[i], o, level: level + 1, into: &out, interp)
    }

    /// Python's `float.__repr__`, with JSON's names for the non-finite values.
    static func floatText(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return PyRepr.float(d)
    }

    /// A quoted JSON string, written straight into `out`; a data string's quoted form is data.
    static func appendString(_ s: PyString, _ ensureASCII: Bool, into out: inout PyStringBuilder) {
        let start = out.bytes.count
        let b = s.utf8
        out.bytes.reserveCapacity(start + b.count + 2)
        out.bytes.append(UInt8(ascii: "\""))
        if !ensureASCII {
            // Python's `encode_basestring`: only `"`, `\` and control characters are escaped; runs
            // without them are copied as they are.
            var run = 0
            for i in 0..<b.count {
                let c = b[i]
                guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
                out.bytes.append(contentsOf: b[run..<i])
                run = i + 1
                escape(UInt32(c), into: &out.bytes)
            }
            out.bytes.append(contentsOf: b[run..<b.count])
        } else {
            var i = 0
            while i < b.count {
                let (c, n) = PyUnicode.decode(b, i)
                i += n
                if c >= 0x20 && c <= 0x7E && c != 0x22 && c != 0x5C {
                    out.bytes.append(UInt8(c))
                } else if c >= 0x10000 {
                    let v = c - 0x10000
                    escape(0xD800 | (v >> 10), into: &out.bytes)
                    escape(0xDC00 | (v & 0x3FF), into: &out.bytes)
                } else {
                    escape(c, into: &out.bytes)
                }
            }
        }
        out.bytes.append(UInt8(ascii: "\""))
        if s.provenance.hasData { out.prov.addData(start..<out.bytes.count) }
    }

    /// The JSON escape of one character (`\n`, `\"`, `\u001b`, ...).
    static func escape(_ c: UInt32, into q: inout [UInt8]) {
        switch c {
        case 0x22: q.append(contentsOf: [92, 0x22])
        case 0x5C: q.append(contentsOf: [92, 92])
        case 0x0A: q.append(contentsOf: [92, UInt8(ascii: "n")])
        case 0x0D: q.append(contentsOf: [92, UInt8(ascii: "r")])
        case 0x09: q.append(contentsOf: [92, UInt8(ascii: "t")])
        case 0x08: q.append(contentsOf: [92, UInt8(ascii: "b")])
        case 0x0C: q.append(contentsOf: [92, UInt8(ascii: "f")])
        default:
            q.append(contentsOf: [92, UInt8(ascii: "u")])
            PyRepr.appendHex(c, digits: 4, to: &q)
        }
    }
}

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
        out.appendLiteral(UInt8(ascii: "\n"))
        for _ in 0..<level { out.appendLiteral(ind) }
    }

    static func encode(_ v: Value, _ o: Options, level: Int, into out: inout PyStringBuilder, _ interp: Interpreter) throws(JinjaError) {
        try interp.budget.string(out.count)
        switch v {
        case .none: out.appendLiteral("null")
        case .bool(let b): out.appendLiteral(b ? "true" : "false")
        case .int(let i): out.appendLiteral(String(i))
        case .float(let d): out.appendLiteral(floatText(d))
        case .string(let s): appendString(s, o.ensureASCII, into: &out)
        case .list(let l), .tuple(let l):
            if l.items.isEmpty { out.appendLiteral("[]"); return }
            out.appendLiteral(UInt8(ascii: "["))
            newline(o, level + 1, into: &out)
            for (i, x) in l.items.enumerated() {
                if i > 0 {
                    out.appendLiteral(o.itemSeparator)
                    newline(o, level + 1, into: &out)
                }
                try encode(x, o, level: level + 1, into: &out, interp)
            }
            newline(o, level, into: &out)
            out.appendLiteral(UInt8(ascii: "]"))
        case .dict(let d):
            if d.count == 0 { out.appendLiteral("{}"); return }
            var order = Array(0..<d.count)
            if o.sortKeys {
                var failure: JinjaError? = nil
                order.sort { a, b in
                    if failure != nil { return false }
                    do throws(JinjaError) { return try interp.order(d.keys[a], d.keys[b], "<") < 0 } catch { failure = error; return false }
                }
                if let failure { throw failure }
            }
            out.appendLiteral(UInt8(ascii: "{"))
            newline(o, level + 1, into: &out)
            for (n, i) in order.enumerated() {
                if n > 0 {
                    out.appendLiteral(o.itemSeparator)
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
                out.appendLiteral(o.keySeparator)
                try encode(d.values[i], o, level: level + 1, into: &out, interp)
            }
            newline(o, level, into: &out)
            out.appendLiteral(UInt8(ascii: "}"))
        case .undefined, .object:
            throw .typeError("Object of type \(v.typeName) is not JSON serializable")
        }
    }

    /// Python's `float.__repr__`, with JSON's names for the non-finite values.
    static func floatText(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return PyRepr.float(d)
    }

    static func appendString(_ s: PyString, _ ensureASCII: Bool, into out: inout PyStringBuilder) {
        var q: [UInt8] = []
        q.reserveCapacity(s.utf8.count + 2)
        if !ensureASCII {
            // Python's `encode_basestring`: only `"`, `\` and control characters are escaped;
            // runs without them are copied as they are.
            let b = s.utf8
            q.append(UInt8(ascii: "\""))
            var run = 0
            for i in 0..<b.count {
                let c = b[i]
                guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
                q.append(contentsOf: b[run..<i])
                run = i + 1
                switch c {
                case 0x22: q.append(contentsOf: [92, 0x22])
                case 0x5C: q.append(contentsOf: [92, 92])
                case 0x0A: q.append(contentsOf: [92, UInt8(ascii: "n")])
                case 0x0D: q.append(contentsOf: [92, UInt8(ascii: "r")])
                case 0x09: q.append(contentsOf: [92, UInt8(ascii: "t")])
                case 0x08: q.append(contentsOf: [92, UInt8(ascii: "b")])
                case 0x0C: q.append(contentsOf: [92, UInt8(ascii: "f")])
                default:
                    q.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48])
                    PyRepr.appendHex(UInt32(c), digits: 2, to: &q)
                }
            }
            q.append(contentsOf: b[run..<b.count])
            q.append(UInt8(ascii: "\""))
        } else {
            q.append(UInt8(ascii: "\""))
            var i = 0
            while i < s.utf8.count {
                let (c, n) = PyUnicode.decode(s.utf8, i)
                i += n
                switch c {
                case 0x22: q.append(contentsOf: [92, 0x22])
                case 0x5C: q.append(contentsOf: [92, 92])
                case 0x0A: q.append(contentsOf: [92, UInt8(ascii: "n")])
                case 0x0D: q.append(contentsOf: [92, UInt8(ascii: "r")])
                case 0x09: q.append(contentsOf: [92, UInt8(ascii: "t")])
                case 0x08: q.append(contentsOf: [92, UInt8(ascii: "b")])
                case 0x0C: q.append(contentsOf: [92, UInt8(ascii: "f")])
                case 0x20...0x7E: q.append(UInt8(c))
                default:
                    func u(_ x: UInt32) {
                        q.append(contentsOf: [92, UInt8(ascii: "u")])
                        PyRepr.appendHex(x, digits: 4, to: &q)
                    }
                    if c >= 0x10000 {
                        let v = c - 0x10000
                        u(0xD800 | (v >> 10))
                        u(0xDC00 | (v & 0x3FF))
                    } else {
                        u(c)
                    }
                }
            }
            q.append(UInt8(ascii: "\""))
        }
        out.append(q, provenance: s.wholeProvenance)
    }
}

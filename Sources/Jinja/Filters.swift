// jinja2's built-in filters (`filters.py`), with transformers' `tojson`. Each behaves as the
// Python function does, including what it returns: `map`, `select`, `reject`, `selectattr`,
// `rejectattr`, `unique`, `items`, `batch` and `slice` return single-use generators, `reverse`
// of a list an iterator, `safe`/`escape` Markup. Arguments are bound like Python's (positional,
// then keywords), with Python's TypeErrors for wrong ones.
// Not implemented (an error when used): `random` (nondeterministic), `urlize`, `wordwrap`.

enum Filter: String, CaseIterable, Sendable {
    case abs, attr, batch, capitalize, center, count, d, `default`, dictsort, e, escape, filesizeformat, first,
         float, forceescape, format, groupby, indent, int, join, last, length, list, lower, items, map, min, max,
         pprint, random, reject, rejectattr, replace, reverse, round, safe, select, selectattr, slice, sort,
         string, striptags, sum, title, trim, truncate, unique, upper, urlencode, urlize, wordcount, wordwrap,
         xmlattr, tojson

    /// The Python function's name (for argument errors).
    var pythonName: String {
        switch self {
        case .abs: return "abs"
        case .count, .length: return "len"
        case .d: return "do_default"
        case .e, .escape: return "escape"
        case .string: return "soft_str"
        case .safe: return "do_mark_safe"
        case .tojson: return "tojson"
        default: return "do_\(rawValue)"
        }
    }
}

extension Interpreter {
    /// Binds a filter's arguments (after the value) to its parameter names.
    func bind(_ a: Arguments, _ f: String, _ params: [String], required: Int = 0) throws(JinjaError) -> [Value?] {
        var out = [Value?](repeating: nil, count: params.count)
        if a.positional.count > params.count {
            let total = params.count + 1
            throw .typeError("\(f)() takes \(required == params.count ? "\(total)" : "from \(required + 1) to \(total)") positional arguments but \(a.positional.count + 1) were given")
        }
        for (i, v) in a.positional.enumerated() { out[i] = v }
        for (k, v) in a.keywords {
            guard let i = params.firstIndex(of: k) else {
                throw .typeError("\(f)() got an unexpected keyword argument \(PyRepr.string(k))")
            }
            if out[i] != nil { throw .typeError("\(f)() got multiple values for argument \(PyRepr.string(k))") }
            out[i] = v
        }
        for i in 0..<required where out[i] == nil {
            throw .typeError("\(f)() missing 1 required positional argument: \(PyRepr.string(params[i]))")
        }
        return out
    }

    /// jinja2's `soft_str`: strings as they are, anything else `str()`.
    func softStr(_ v: Value) throws(JinjaError) -> PyString {
        if case .string(let s) = v { return s }
        return try PyFormat.str(v, self)
    }

    /// Python `len(value)`.
    func length(_ v: Value) throws(JinjaError) -> Int {
        switch v {
        case .string(let s): return s.count
        case .list(let l), .tuple(let l): return l.items.count
        case .dict(let d): return d.count
        case .undefined: return 0
        case .object(let o):
            if let n = o.length { return n }
            throw .typeError("object of type '\(o.typeName)' has no len()")
        default:
            throw .typeError("object of type '\(v.typeName)' has no len()")
        }
    }

    /// jinja2's `make_attrgetter` path: "a.b.0" → ["a", "b", 0].
    static func attributeParts(_ attribute: Value?) -> [Value] {
        guard let attribute, !attribute.isNone else { return [] }
        if case .string(let s) = attribute {
            return s.string.split(separator: ".", omittingEmptySubsequences: false).map { part in
                if !part.isEmpty, part.allSatisfy({ $0.isASCII && $0.isNumber }), let i = Int(part) { return .int(i) }
                return .str(String(part))
            }
        }
        return [attribute]
    }

    func lookupPath(_ item: Value, _ parts: [Value], default dflt: Value? = nil) throws(JinjaError) -> Value {
        var v = item
        for p in parts {
            v = try getitem(v, p)
            if let dflt, v.isUndefined { v = dflt }
        }
        return v
    }

    static func ignoreCase(_ v: Value) -> Value {
        if case .string(let s) = v { return .string(PythonMethods.caseMap(s, .lower)) }
        return v
    }

    /// A stable sort with Python's ordering (a `TypeError` for values it cannot order).
    func sorted(_ items: [Value], key: (Value) throws(JinjaError) -> Value, reverse: Bool) throws(JinjaError) -> [Value] {
        var keyed: [(Value, Value)] = []
        keyed.reserveCapacity(items.count)
        for x in items { keyed.append((try key(x), x)) }
        try budget.step(items.count * 4)
        var failure: JinjaError? = nil
        // Merge sort (stable; Python's sort is stable and so is reverse=True).
        func less(_ a: Value, _ b: Value) -> Bool {
            if failure != nil { return false }
            do throws(JinjaError) { return try order(a, b, "<") < 0 } catch { failure = error; return false }
        }
        var arr = keyed
        var tmp = keyed
        var width = 1
        let n = arr.count
        while width < n {
            var lo = 0
            while lo < n {
                let mid = min(lo + width, n), hi = min(lo + 2 * width, n)
                var i = lo, j = mid, k = lo
                while i < mid && j < hi {
                    let takeRight = reverse ? less(arr[i].0, arr[j].0) : less(arr[j].0, arr[i].0)
                    if takeRight { tmp[k] = arr[j]; j += 1 } else { tmp[k] = arr[i]; i += 1 }
                    k += 1
                }
                while i < mid { tmp[k] = arr[i]; i += 1; k += 1 }
                while j < hi { tmp[k] = arr[j]; j += 1; k += 1 }
                lo = hi
            }
            swap(&arr, &tmp)
            width *= 2
        }
        if let failure { throw failure }
        return arr.map(\.1)
    }

    func applyFilter(_ f: Filter, _ v: Value, _ a: Arguments) throws(JinjaError) -> Value {
        let name = f.pythonName
        switch f {
        case .abs:
            _ = try bind(a, name, [])
            switch v {
            case .int(let i):
                if i == Int.min { throw Interpreter.overflow() }
                return .int(Swift.abs(i))
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let d): return .float(Swift.abs(d))
            case .undefined(let u): throw u.error
            default: throw .typeError("bad operand type for abs(): '\(v.typeName)'")
            }
        case .attr:
            let p = try bind(a, name, ["name"], required: 1)
            guard case .string(let attrName) = p[0] ?? .none else { return Undefined.missingAttribute(of: v, PyRepr.repr(p[0] ?? .none)) }
            let attribute = Name(attrName)
            if case .dict = v, attribute.member?.dictMethodIsSafe == nil {
                return Undefined.missingAttribute(of: v, attribute.text)
            }
            return try getattr(v, attribute)
        case .batch:
            let p = try bind(a, name, ["linecount", "fill_with"], required: 1)
            let count = try PythonMethods.intArg(p[0] ?? .none)
            let fill = p[1] ?? .none
            var it = try iterate(v)
            var done = false
            return .object(PyGenerator("do_batch") { (interp) throws(JinjaError) -> Value? in
                if done { return nil }
                var tmp: [Value] = []
                while tmp.count < Swift.max(count, 1), let x = try it.next(interp) { tmp.append(x) }
                if tmp.isEmpty { done = true; return nil }
                if tmp.count < count {
                    done = true
                    if !fill.isNone { while tmp.count < count { tmp.append(fill) } }
                }
                return .list(PyList(tmp))
            })
        case .capitalize:
            _ = try bind(a, name, [])
            return .string(PythonMethods.capitalize(try softStr(v)))
        case .center:
            let p = try bind(a, name, ["width"])
            return try PythonMethods.callString(try softStr(v), .center, Arguments([p[0] ?? .int(80)]), self)
        case .count, .length:
            _ = try bind(a, name, [])
            return .int(try length(v))
        case .d, .default:
            let p = try bind(a, name, ["default_value", "boolean"])
            if v.isUndefined || ((p[1]?.isTruthy ?? false) && !v.isTruthy) { return p[0] ?? .emptyString }
            return v
        case .dictsort:
            let p = try bind(a, name, ["case_sensitive", "by", "reverse"])
            let caseSensitive = p[0]?.isTruthy ?? false
            var pos = 0
            if let by = p[1] {
                switch by.stringValue?.string {
                case "key": pos = 0
                case "value": pos = 1
                default: throw .filterArgument("You can only sort by either \"key\" or \"value\"")
                }
            }
            guard case .dict(let d) = v else {
                if case .undefined(let u) = v { throw u.error }
                throw .attributeError("'\(v.typeName)' object has no attribute 'items'")
            }
            let pairs = zip(d.keys, d.values).map { Value.tuple(PyList([$0, $1])) }
            return .list(PyList(try sorted(pairs, key: { (item) throws(JinjaError) -> Value in
                guard case .tuple(let t) = item else { return item }
                let x = t.items[pos]
                return caseSensitive ? x : Interpreter.ignoreCase(x)
            }, reverse: p[2]?.isTruthy ?? false)))
        case .e, .escape:
            _ = try bind(a, name, [])
            return .string(try PyFormat.escape(v, self))
        case .filesizeformat:
            let p = try bind(a, name, ["binary"])
            return .str(try fileSize(v, binary: p[0]?.isTruthy ?? false))
        case .first:
            _ = try bind(a, name, [])
            var it = try iterate(v)
            return try it.next(self) ?? Undefined.hint("No first item, sequence was empty.")
        case .float:
            let p = try bind(a, name, ["default"])
            return Interpreter.toFloat(v).map { .float($0) } ?? (p[0] ?? .float(0))
        case .forceescape:
            _ = try bind(a, name, [])
            var s = try PyFormat.str(v, self)
            s.isMarkup = false
            return .string(PyFormat.escape(s))
        case .format:
            if !a.positional.isEmpty && !a.keywords.isEmpty {
                throw .filterArgument("can't handle positional and keyword arguments at the same time")
            }
            let s = try softStr(v)
            if !a.keywords.isEmpty {
                let d = PyDict(uniqueKeys: a.keywords.map { .str($0.0) }, values: a.keywords.map(\.1))
                return .string(try PyFormat.percent(s, .dict(d), self))
            }
            return .string(try PyFormat.percent(s, .tuple(PyList(a.positional)), self))
        case .groupby:
            let p = try bind(a, name, ["attribute", "default", "case_sensitive"], required: 1)
            let parts = Interpreter.attributeParts(p[0])
            let caseSensitive = p[2]?.isTruthy ?? false
            let dflt = p[1].flatMap { $0.isNone ? nil : $0 }
            let items = try list(v)
            let key = { (x: Value) throws(JinjaError) -> Value in
                let k = try self.lookupPath(x, parts, default: dflt)
                return caseSensitive ? k : Interpreter.ignoreCase(k)
            }
            let sortedItems = try sorted(items, key: key, reverse: false)
            var groups: [Value] = []
            var currentKey: Value? = nil
            var current: [Value] = []
            for x in sortedItems {
                let k = try key(x)
                if let ck = currentKey, try equals(ck, k) {
                    current.append(x)
                } else {
                    if !current.isEmpty { groups.append(try groupTuple(current, parts, dflt)) }
                    currentKey = k
                    current = [x]
                }
            }
            if !current.isEmpty { groups.append(try groupTuple(current, parts, dflt)) }
            return .list(PyList(groups))
        case .indent:
            let p = try bind(a, name, ["width", "first", "blank"])
            return .string(try indent(try softStr(v), width: p[0] ?? .int(4), first: p[1]?.isTruthy ?? false, blank: p[2]?.isTruthy ?? false, raw: v))
        case .int:
            let p = try bind(a, name, ["default", "base"])
            let base = try p[1].map { (x) throws(JinjaError) in try PythonMethods.intArg(x) } ?? 10
            if case .float(let d) = v, d.isFinite, Swift.abs(d) >= 9.2e18 { throw Interpreter.overflow() }
            return Interpreter.toInt(v, base: base).map { .int($0) } ?? (p[0] ?? .int(0))
        case .join:
            let p = try bind(a, name, ["d", "attribute"])
            var items = try list(v)
            if let attr = p[1], !attr.isNone {
                let parts = Interpreter.attributeParts(attr)
                var mapped: [Value] = []
                for x in items { mapped.append(try lookupPath(x, parts)) }
                items = mapped
            }
            let sep = try p[0].map { (x) throws(JinjaError) in try PyFormat.str(x, self) } ?? .empty
            var b = PyStringBuilder()
            for (i, x) in items.enumerated() {
                if i > 0 { b.append(sep) }
                b.append(try PyFormat.str(x, self))
                try budget.string(b.count)
            }
            return .string(b.finish())
        case .last:
            _ = try bind(a, name, [])
            switch v {
            case .list(let l), .tuple(let l): return l.items.last ?? Undefined.hint("No last item, sequence was empty.")
            case .dict(let d): return d.keys.last ?? Undefined.hint("No last item, sequence was empty.")
            case .string(let s):
                if s.isEmpty { return Undefined.hint("No last item, sequence was empty.") }
                let (_, n) = PyUnicode.decodeBackward(s.utf8, s.utf8.count)
                return .string(s.slice(s.utf8.count - n..<s.utf8.count))
            case .undefined: return Undefined.hint("No last item, sequence was empty.")
            case .object(let o):
                if let r = o as? RangeObject {
                    return r.item(-1).map { .int($0) } ?? Undefined.hint("No last item, sequence was empty.")
                }
                if let view = o as? DictView, let x = view.elements.last { return x }
                throw .typeError("'\(o.typeName)' object is not reversible")
            default:
                throw .typeError("'\(v.typeName)' object is not reversible")
            }
        case .list:
            _ = try bind(a, name, [])
            let items = try list(v)
            try budget.container(items.count)
            return .list(PyList(items))
        case .lower:
            _ = try bind(a, name, [])
            return .string(PythonMethods.caseMap(try softStr(v), .lower))
        case .upper:
            _ = try bind(a, name, [])
            return .string(PythonMethods.caseMap(try softStr(v), .upper))
        case .items:
            _ = try bind(a, name, [])
            if v.isUndefined { return .object(PyGenerator("do_items") { (_) throws(JinjaError) -> Value? in nil }) }
            guard case .dict(let d) = v else { throw .typeError("Can only get item pairs from a mapping.") }
            var i = 0
            return .object(PyGenerator("do_items") { (_) throws(JinjaError) -> Value? in
                guard i < d.count else { return nil }
                i += 1
                return .tuple(PyList([d.keys[i - 1], d.values[i - 1]]))
            })
        case .map:
            return try mapFilter(v, a)
        case .min, .max:
            let p = try bind(a, name, ["case_sensitive", "attribute"])
            let items = try list(v)
            guard !items.isEmpty else { return Undefined.hint("No aggregated item, sequence was empty.") }
            let parts = Interpreter.attributeParts(p[1])
            let caseSensitive = p[0]?.isTruthy ?? false
            var best = items[0]
            var bestKey = try lookupPath(best, parts)
            if !caseSensitive { bestKey = Interpreter.ignoreCase(bestKey) }
            for x in items.dropFirst() {
                var k = try lookupPath(x, parts)
                if !caseSensitive { k = Interpreter.ignoreCase(k) }
                let c = try order(k, bestKey, f == .min ? "<" : ">")
                if (f == .min && c < 0) || (f == .max && c > 0) {
                    best = x
                    bestKey = k
                }
            }
            return best
        case .pprint:
            _ = try bind(a, name, [])
            return .str(PyRepr.repr(v))
        case .random, .urlize, .wordwrap:
            throw .notImplemented("the '\(f.rawValue)' filter")
        case .reject, .select, .rejectattr, .selectattr:
            return try selectFilter(v, a, reject: f == .reject || f == .rejectattr, attr: f == .rejectattr || f == .selectattr)
        case .replace:
            let p = try bind(a, name, ["old", "new", "count"], required: 2)
            let count = try p[2].flatMap { (x) throws(JinjaError) -> Int? in x.isNone ? nil : try PythonMethods.intArg(x) } ?? -1
            var s = try PyFormat.str(v, self)
            let wasMarkup = s.isMarkup
            s.isMarkup = false
            var r = try PythonMethods.replace(s, try PyFormat.str(p[0] ?? .none, self), try PyFormat.str(p[1] ?? .none, self), count, self)
            r.isMarkup = false
            _ = wasMarkup
            return .string(r)
        case .reverse:
            _ = try bind(a, name, [])
            switch v {
            case .string(let s):
                return try slice(.string(s), nil, nil, .int(-1))
            case .list(let l):
                return .object(PyGenerator.over("reversed", typeName: "list_reverseiterator", ValueIterator(.values(l.items.reversed()))))
            case .tuple(let l):
                return .object(PyGenerator.over("reversed", typeName: "reversed", ValueIterator(.values(l.items.reversed()))))
            case .dict(let d):
                return .object(PyGenerator.over("reversed", typeName: "dict_reversekeyiterator", ValueIterator(.values(d.keys.reversed()))))
            case .undefined:
                return .object(PyGenerator.over("reversed", typeName: "reversed", .empty))
            default:
                var items: [Value]
                do { items = try list(v) } catch { throw .filterArgument("argument must be iterable") }
                items.reverse()
                return .list(PyList(items))
            }
        case .round:
            let p = try bind(a, name, ["precision", "method"])
            let precision = try p[0].map { (x) throws(JinjaError) in try PythonMethods.intArg(x) } ?? 0
            let method = p[1]?.stringValue?.string ?? "common"
            guard ["common", "ceil", "floor"].contains(method) else {
                throw .filterArgument("method must be common, ceil or floor")
            }
            return try round(v, precision, method)
        case .safe:
            _ = try bind(a, name, [])
            var s = try PyFormat.str(v, self)
            s.isMarkup = true
            return .string(s)
        case .slice:
            let p = try bind(a, name, ["slices", "fill_with"], required: 1)
            let slices = try PythonMethods.intArg(p[0] ?? .none)
            let fill = p[1] ?? .none
            let seq = try list(v)
            let perSlice = slices == 0 ? 0 : seq.count / slices
            if slices == 0 { throw .zeroDivision("integer division or modulo by zero") }
            let withExtra = seq.count % slices
            var number = 0
            var offset = 0
            return .object(PyGenerator("do_slice") { (_) throws(JinjaError) -> Value? in
                guard number < slices else { return nil }
                let start = offset + number * perSlice
                if number < withExtra { offset += 1 }
                let end = offset + (number + 1) * perSlice
                var tmp = start < end ? Array(seq[Swift.max(0, start)..<Swift.min(end, seq.count)]) : []
                if !fill.isNone && number >= withExtra { tmp.append(fill) }
                number += 1
                return .list(PyList(tmp))
            })
        case .sort:
            let p = try bind(a, name, ["reverse", "case_sensitive", "attribute"])
            let items = try list(v)
            let caseSensitive = p[1]?.isTruthy ?? false
            var attrs: [[Value]] = []
            if let attr = p[2], !attr.isNone {
                if case .string(let s) = attr {
                    attrs = s.string.split(separator: ",", omittingEmptySubsequences: false).map { Interpreter.attributeParts(.str(String($0))) }
                } else {
                    attrs = [Interpreter.attributeParts(attr)]
                }
            }
            let result = try sorted(items, key: { (x) throws(JinjaError) -> Value in
                if attrs.isEmpty { return caseSensitive ? x : Interpreter.ignoreCase(x) }
                var ks: [Value] = []
                for path in attrs {
                    let k = try self.lookupPath(x, path)
                    ks.append(caseSensitive ? k : Interpreter.ignoreCase(k))
                }
                return .list(PyList(ks))
            }, reverse: p[0]?.isTruthy ?? false)
            return .list(PyList(result))
        case .string:
            _ = try bind(a, name, [])
            return .string(try softStr(v))
        case .striptags:
            _ = try bind(a, name, [])
            return .string(try stripTags(try PyFormat.str(v, self)))
        case .sum:
            let p = try bind(a, name, ["attribute", "start"])
            var total = p[1] ?? .int(0)
            let parts = Interpreter.attributeParts(p[0])
            var it = try iterate(v)
            while let x = try it.next(self) {
                total = try binary(.add, total, try lookupPath(x, parts))
                try budget.step()
            }
            return total
        case .title:
            _ = try bind(a, name, [])
            return .string(jinjaTitle(try softStr(v)))
        case .trim:
            let p = try bind(a, name, ["chars"])
            return .string(try PythonMethods.strip(try softStr(v), p[0] ?? .none, left: true, right: true))
        case .truncate:
            let p = try bind(a, name, ["length", "killwords", "end", "leeway"])
            return .string(try truncate(try softStr(v), p))
        case .unique:
            let p = try bind(a, name, ["case_sensitive", "attribute"])
            let caseSensitive = p[0]?.isTruthy ?? false
            let parts = Interpreter.attributeParts(p[1])
            var it = try iterate(v)
            var seen = Set<HashKey>()
            return .object(PyGenerator("sync_do_unique") { (interp) throws(JinjaError) -> Value? in
                while let x = try it.next(interp) {
                    var k = try interp.lookupPath(x, parts)
                    if !caseSensitive { k = Interpreter.ignoreCase(k) }
                    let hk = try HashKey(k)
                    if seen.insert(hk).inserted { return x }
                }
                return nil
            })
        case .urlencode:
            _ = try bind(a, name, [])
            return .str(try urlencode(v))
        case .wordcount:
            _ = try bind(a, name, [])
            let s = try softStr(v)
            var n = 0
            var inWord = false
            var i = 0
            while i < s.utf8.count {
                let (c, l) = PyUnicode.decode(s.utf8, i)
                let w = PyUnicode.isWordChar(c)
                if w && !inWord { n += 1 }
                inWord = w
                i += l
            }
            return .int(n)
        case .xmlattr:
            let p = try bind(a, name, ["autospace"])
            return .str(try xmlattr(v, autospace: p[0]?.isTruthy ?? true))
        case .tojson:
            let p = try bind(a, name, ["ensure_ascii", "indent", "separators", "sort_keys"])
            return .string(try PythonJSON.dumps(v, ensureASCII: p[0]?.isTruthy ?? false, indent: p[1] ?? .none,
                                                 separators: p[2] ?? .none, sortKeys: p[3]?.isTruthy ?? false, self))
        }
    }
}

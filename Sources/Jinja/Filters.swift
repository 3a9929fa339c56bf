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

    func groupTuple(_ items: [Value], _ parts: [Value], _ dflt: Value?) throws(JinjaError) -> Value {
        .tuple(PyList([try lookupPath(items[0], parts, default: dflt), .list(PyList(items))]))
    }

    /// `map(attribute=...)` or `map('filter', args...)`: a generator.
    func mapFilter(_ v: Value, _ a: Arguments) throws(JinjaError) -> Value {
        var transform: (Value, Interpreter) throws(JinjaError) -> Value
        if a.positional.isEmpty, let attribute = a.keyword("attribute") {
            let parts = Interpreter.attributeParts(attribute)
            let dflt = a.keyword("default").flatMap { $0.isNone ? nil : $0 }
            if let extra = a.keywords.first(where: { $0.0 != "attribute" && $0.0 != "default" }) {
                throw .filterArgument("Unexpected keyword argument \(PyRepr.string(extra.0))")
            }
            transform = { (x, interp) throws(JinjaError) in try interp.lookupPath(x, parts, default: dflt) }
        } else {
            guard let first = a.positional.first else { throw .filterArgument("map requires a filter argument") }
            let filter = try filterNamed(first)
            let rest = Arguments(Array(a.positional.dropFirst()), a.keywords)
            transform = { (x, interp) throws(JinjaError) in try interp.applyFilter(filter, x, rest) }
        }
        if !v.isTruthy { return .object(PyGenerator("sync_do_map") { (_) throws(JinjaError) -> Value? in nil }) }
        var it = try iterate(v)
        return .object(PyGenerator("sync_do_map") { (interp) throws(JinjaError) -> Value? in
            guard let x = try it.next(interp) else { return nil }
            return try transform(x, interp)
        })
    }

    func filterNamed(_ name: Value) throws(JinjaError) -> Filter {
        if case .string(let s) = name, let f = Filter(rawValue: s.string) { return f }
        var msg = "No filter named \(PyRepr.repr(name))."
        if case .undefined(let u) = name { msg += " (\(u.message); did you forget to quote the callable name?)" }
        throw .runtime(msg)
    }

    func testNamed(_ name: Value) throws(JinjaError) -> Test {
        if case .string(let s) = name, let t = Test(name: s.string) { return t }
        var msg = "No test named \(PyRepr.repr(name))."
        if case .undefined(let u) = name { msg += " (\(u.message); did you forget to quote the callable name?)" }
        throw .runtime(msg)
    }

    /// `select`, `reject`, `selectattr`, `rejectattr`: a generator.
    func selectFilter(_ v: Value, _ a: Arguments, reject: Bool, attr: Bool) throws(JinjaError) -> Value {
        var off = 0
        var parts: [Value] = []
        if attr {
            guard let first = a.positional.first else { throw .filterArgument("Missing parameter for attribute name") }
            parts = Interpreter.attributeParts(first)
            off = 1
        }
        var test: Test? = nil
        var rest = Arguments([], a.keywords)
        if a.positional.count > off {
            test = try testNamed(a.positional[off])
            rest.positional = Array(a.positional[(off + 1)...])
        }
        if !v.isTruthy { return .object(PyGenerator("select_or_reject") { (_) throws(JinjaError) -> Value? in nil }) }
        var it = try iterate(v)
        return .object(PyGenerator("select_or_reject") { (interp) throws(JinjaError) -> Value? in
            while let x = try it.next(interp) {
                try interp.budget.step()
                let y = attr ? try interp.lookupPath(x, parts) : x
                let ok = try test.map { (t) throws(JinjaError) in try interp.applyTest(t, y, rest) } ?? y.isTruthy
                if ok != reject { return x }
            }
            return nil
        })
    }

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

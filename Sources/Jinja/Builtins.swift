// The globals a chat template sees: jinja2's (`range` — the sandbox's, at most 100,000 items —
// `dict`, `namespace`, `cycler`, `joiner`; `lipsum` is not implemented) with transformers'
// replacements and additions (`dict` and `namespace` are its `TemplateDict` and
// `TemplateNamespace`; `raise_exception`, `strftime_now`).

enum Builtins {
    static let range = BuiltinFunction("safe_range") { (args, interp) throws(JinjaError) in try makeRange(args) }
    static let raiseException = BuiltinFunction("raise_exception") { (args, interp) throws(JinjaError) in
        guard args.positional.count + args.keywords.count == 1 else {
            throw .typeError("raise_exception() takes 1 positional argument but \(args.positional.count) were given")
        }
        let message = args.positional.first ?? args.keyword("message") ?? .none
        throw .raised(try PyFormat.str(message, interp).string)
    }
    static let strftimeNow = BuiltinFunction("strftime_now") { (args, interp) throws(JinjaError) in
        guard args.positional.count == 1, args.keywords.isEmpty else {
            throw .typeError("strftime_now() takes 1 positional argument but \(args.positional.count) were given")
        }
        guard case .string(let format) = args.positional[0] else {
            throw .typeError("strftime() argument 1 must be str, not \(args.positional[0].typeName)")
        }
        return .str(Strftime.format(format.string, clock: interp.clock))
    }
    static let cycler = BuiltinFunction("Cycler") { (args, interp) throws(JinjaError) in
        if args.positional.isEmpty { throw JinjaError(.evaluation, "RuntimeError", "at least one item has to be provided") }
        return .object(Cycler(args.positional))
    }
    static let joiner = BuiltinFunction("Joiner") { (args, interp) throws(JinjaError) in
        .object(Joiner(args.positional.first ?? args.keyword("sep") ?? .str(", ")))
    }
    static let lipsum = BuiltinFunction("generate_lorem_ipsum") { (args, interp) throws(JinjaError) in
        throw .notImplemented("lipsum()")
    }
    static let dict = TemplateDict()
    static let namespace = NamespaceType()

    /// The global `name` (nil if there is none).
    static func global(_ name: String) -> Value? {
        switch name {
        case "range": return .object(range)
        case "dict": return .object(dict)
        case "namespace": return .object(namespace)
        case "raise_exception": return .object(raiseException)
        case "strftime_now": return .object(strftimeNow)
        case "cycler": return .object(cycler)
        case "joiner": return .object(joiner)
        case "lipsum": return .object(lipsum)
        default: return nil
        }
    }

    /// The sandbox's `safe_range`.
    static func makeRange(_ args: Arguments) throws(JinjaError) -> Value {
        if !args.keywords.isEmpty { throw .typeError("range() takes no keyword arguments") }
        let n = args.positional.count
        if n == 0 { throw .typeError("range expected at least 1 argument, got 0") }
        if n > 3 { throw .typeError("range expected at most 3 arguments, got \(n)") }
        var ints: [Int] = []
        for v in args.positional {
            switch v {
            case .int(let i): ints.append(i)
            case .bool(let b): ints.append(b ? 1 : 0)
            default: throw .typeError("'\(v.typeName)' object cannot be interpreted as an integer")
            }
        }
        let (start, stop, step) = n == 1 ? (0, ints[0], 1) : (ints[0], ints[1], n == 3 ? ints[2] : 1)
        if step == 0 { throw .valueError("range() arg 3 must not be zero") }
        if RangeObject.length(start: start, stop: stop, step: step) > UInt(Int.max) {
            throw .overflow("Python int too large to convert to C ssize_t")
        }
        let r = RangeObject(start: start, stop: stop, step: step)
        if r.count > 100_000 {
            throw .overflow("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")
        }
        return .object(r)
    }

    /// Python's `dict(*args, **kwargs)` as key/value pairs.
    static func dictPairs(_ args: Arguments, _ interp: Interpreter, what: String = "dict") throws(JinjaError) -> [(Value, Value)] {
        if args.positional.count > 1 { throw .typeError("\(what) expected at most 1 argument, got \(args.positional.count)") }
        var pairs: [(Value, Value)] = []
        if let first = args.positional.first {
            if case .dict(let d) = first {
                pairs = Array(zip(d.keys, d.values))
            } else {
                var it: ValueIterator
                do { it = try interp.iterate(first) } catch { throw .typeError("'\(first.typeName)' object is not iterable") }
                var index = 0
                while let item = try it.next(interp) {
                    let kv: [Value]
                    do { kv = try interp.list(item) } catch {
                        throw .typeError("cannot convert dictionary update sequence element #\(index) to a sequence")
                    }
                    if kv.count != 2 {
                        throw .valueError("dictionary update sequence element #\(index) has length \(kv.count); 2 is required")
                    }
                    pairs.append((kv[0], kv[1]))
                    index += 1
                    try interp.budget.step()
                }
            }
        }
        for (k, v) in args.keywords { pairs.append((.str(k), v)) }
        try interp.budget.container(pairs.count)
        return pairs
    }

    static func makeDict(_ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        let d = try PyDict(pairs: try dictPairs(args, interp))
        if d.depth > interp.budget.limits.maxNestingDepth { throw Budget.nestingError(interp.budget.limits.maxNestingDepth) }
        return .dict(d)
    }

    static func dictFromKeys(_ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        try PythonMethods.arity("fromkeys", args, 1, 2)
        let value = args.positional.count > 1 ? args.positional[1] : .none
        let keys = try interp.list(args.positional[0])
        try interp.budget.container(keys.count)
        return .dict(try PyDict(pairs: keys.map { ($0, value) }))
    }

    /// transformers' `TemplateNamespace(*args, **kwargs)`.
    static func makeNamespace(_ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        let ns = Namespace()
        for (k, v) in try dictPairs(args, interp) {
            if case .string(let s) = k {
                try ns.set(s.string, v)
            }
        }
        interp.namespaces.append(ns)
        return .object(ns)
    }
}

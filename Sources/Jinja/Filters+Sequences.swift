// Filters over sequences: groupby's tuples, map, select / reject (attr), and looking filters and
// tests up by name.

extension Interpreter {
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
}

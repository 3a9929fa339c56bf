// Attribute access, subscripts, slices and calls, as jinja2's `ImmutableSandboxedEnvironment`
// does them:
// - `x.name` tries the Python attribute first (a method such as `dict.items`), then `x["name"]`;
//   `x[key]` tries the item first, then (for a string key) the attribute. A miss is an Undefined
//   that remembers what was missing ("'dict object' has no attribute 'foo'").
// - Attributes starting with `_` and the methods that would change a list or dict (`append`,
//   `pop`, `update`, ...) are refused: they read as an Undefined whose use raises
//   `SecurityError: access to attribute 'append' of 'list' object is unsafe.`
// - `x[a:b:c]` is a plain Python slice (no sandbox involved in jinja2 either).

extension Interpreter {
    static let universalDunders: Set<String> = [
        "__class__", "__doc__", "__init__", "__new__", "__repr__", "__str__", "__hash__", "__eq__", "__ne__",
        "__lt__", "__le__", "__gt__", "__ge__", "__getattribute__", "__setattr__", "__delattr__", "__dir__",
        "__format__", "__reduce__", "__reduce_ex__", "__sizeof__", "__subclasshook__", "__init_subclass__",
        "__getstate__",
    ]

    static let containerDunders: Set<String> = [
        "__len__", "__getitem__", "__iter__", "__contains__", "__add__", "__mul__", "__rmul__",
    ]

    func unsafeAttribute(_ obj: Value, _ name: String) -> Value {
        .undefined(Undefined(.hint("access to attribute \(PyRepr.string(name)) of \(PyRepr.string(obj.typeName)) object is unsafe."),
                             errorType: "SecurityError"))
    }

    /// Whether a Python object of this value's type has the (dunder) attribute `name`.
    func hasDunder(_ obj: Value, _ name: String) -> Bool {
        if Interpreter.universalDunders.contains(name) { return true }
        switch obj {
        case .string, .list, .tuple, .dict: return Interpreter.containerDunders.contains(name)
        default: return false
        }
    }

    /// jinja2's sandboxed `getattr(obj, name)`.
    func getattr(_ obj: Value, _ name: Name) throws(JinjaError) -> Value {
        if case .undefined(let u) = obj { throw u.error }
        if name.isPrivate && hasDunder(obj, name.text) { return unsafeAttribute(obj, name.text) }
        let member = name.member
        switch obj {
        case .dict(let d):
            if let safe = member?.dictMethodIsSafe {
                return safe ? .object(BoundMethod(obj, name)) : unsafeAttribute(obj, name.text)
            }
            if let v = d.get(string: name.bytes) { return v }
        case .string:
            if member?.isStringMethod == true { return .object(BoundMethod(obj, name)) }
        case .list:
            if let safe = member?.listMethodIsSafe {
                return safe ? .object(BoundMethod(obj, name)) : unsafeAttribute(obj, name.text)
            }
        case .tuple:
            if member == .count || member == .index { return .object(BoundMethod(obj, name)) }
        case .int, .bool, .float:
            if let v = try PythonMethods.numberAttribute(obj, name) { return v }
        case .object(let o):
            if let v = try o.attribute(name, self) {
                if name.isPrivate { return unsafeAttribute(obj, name.text) }
                return v
            }
        case .none, .undefined:
            break
        }
        return Undefined.missingAttribute(of: obj, name.text)
    }

    /// A Python sequence index (int or bool) as an offset into `count` items, or nil.
    static func index(_ key: Value, count: Int) -> Int?? {
        let i: Int
        switch key {
        case .int(let x): i = x
        case .bool(let b): i = b ? 1 : 0
        default: return .none
        }
        let j = i < 0 ? i + count : i
        return .some(j >= 0 && j < count ? j : nil)
    }

    /// jinja2's sandboxed `getitem(obj, key)`.
    func getitem(_ obj: Value, _ key: Value) throws(JinjaError) -> Value {
        switch obj {
        case .undefined(let u):
            throw u.error
        case .dict(let d):
            if let v = try? d.get(key) { return v }
        case .list(let l), .tuple(let l):
            if case .some(let idx) = Interpreter.index(key, count: l.items.count) {
                if let idx { return l.items[idx] }
                return Undefined.missingItem(of: obj, key)
            }
        case .string(let s):
            if case .some = Interpreter.index(key, count: 0) {
                let offs = s.isASCII ? nil : s.scalarOffsets()
                let count = offs.map { $0.count - 1 } ?? s.utf8.count
                if case .some(let idx) = Interpreter.index(key, count: count), let idx {
                    let r = offs.map { $0[idx]..<$0[idx + 1] } ?? idx..<idx + 1
                    return .string(s.slice(r))
                }
                return Undefined.missingItem(of: obj, key)
            }
        case .object(let o):
            if let r = o as? RangeObject, case .some = Interpreter.index(key, count: 0) {
                guard case .some(let idx) = Interpreter.index(key, count: r.count), let idx else {
                    return Undefined.missingItem(of: obj, key)
                }
                return .int(r.start + idx * r.step)
            }
        default:
            break
        }
        if case .string(let name) = key {
            return try getattr(obj, Name(name))
        }
        return Undefined.missingItem(of: obj, key)
    }

    // MARK: Slices

    /// Python's `slice.indices(length)`: start, stop, step for a sequence of `length` items.
    static func sliceIndices(_ start: Value?, _ stop: Value?, _ step: Value?, length: Int) throws(JinjaError) -> (Int, Int, Int) {
        func intValue(_ v: Value?) throws(JinjaError) -> Int? {
            switch v {
            case nil, .some(.none): return nil
            case .some(.int(let i)): return i
            case .some(.bool(let b)): return b ? 1 : 0
            case .some(.undefined(let u)): throw u.error
            default: throw .typeError("slice indices must be integers or None or have an __index__ method")
            }
        }
        let st = try intValue(step) ?? 1
        if st == 0 { throw .valueError("slice step cannot be zero") }
        let lower = st < 0 ? -1 : 0
        let upper = st < 0 ? length - 1 : length
        func clamp(_ v: Int?, _ dflt: Int) -> Int {
            guard let v else { return dflt }
            if v < 0 { return max(v + length, lower) }
            return min(v, upper)
        }
        let a = clamp(try intValue(start), st < 0 ? upper : lower)
        let b = clamp(try intValue(stop), st < 0 ? lower : upper)
        return (a, b, st)
    }

    static func sliceOffsets(_ a: Int, _ b: Int, _ st: Int) -> [Int] {
        var out: [Int] = []
        var i = a
        while st > 0 ? i < b : i > b {
            out.append(i)
            let (next, overflow) = i.addingReportingOverflow(st)
            if overflow { break }
            i = next
        }
        return out
    }

    func slice(_ obj: Value, _ start: Value?, _ stop: Value?, _ step: Value?) throws(JinjaError) -> Value {
        switch obj {
        case .undefined(let u):
            throw u.error
        case .list(let l), .tuple(let l):
            let (a, b, st) = try Interpreter.sliceIndices(start, stop, step, length: l.items.count)
            let items: [Value]
            if st == 1 {
                items = a < b ? Array(l.items[a..<b]) : []
            } else {
                items = Interpreter.sliceOffsets(a, b, st).map { l.items[$0] }
            }
            try budget.container(items.count)
            let r = PyList(items, depth: l.depth)
            if case .tuple = obj { return .tuple(r) }
            return .list(r)
        case .string(let s):
            let ascii = s.isASCII
            let offs = ascii ? [] : s.scalarOffsets()
            let count = ascii ? s.utf8.count : offs.count - 1
            let (a, b, st) = try Interpreter.sliceIndices(start, stop, step, length: count)
            if st == 1 {
                if a >= b { return .string(PyString([], markup: s.isMarkup)) }
                return .string(ascii ? s.slice(a..<b) : s.slice(offs[a]..<offs[b]))
            }
            var out = PyStringBuilder()
            for i in Interpreter.sliceOffsets(a, b, st) {
                out.append(s, bytes: ascii ? i..<i + 1 : offs[i]..<offs[i + 1])
            }
            out.markup = s.isMarkup
            return .string(out.finish())
        case .object(let o):
            if let r = o as? RangeObject {
                let (a, b, st) = try Interpreter.sliceIndices(start, stop, step, length: r.count)
                let n = Interpreter.sliceOffsets(a, b, st).count
                let newStart = r.start + a * r.step
                let newStep = r.step * st
                return .object(RangeObject(start: newStart, stop: newStart + n * newStep, step: newStep))
            }
            throw .typeError("'\(o.typeName)' object is not subscriptable")
        case .dict:
            throw .typeError("unhashable type: 'slice'")
        default:
            throw .typeError("'\(obj.typeName)' object is not subscriptable")
        }
    }

    // MARK: Calls

    /// `f(*args, **kwargs)` in the sandbox.
    func callValue(_ f: Value, _ args: Arguments) throws(JinjaError) -> Value {
        switch f {
        case .undefined(let u):
            throw u.error
        case .object(let o) where o.isCallable:
            return try o.call(args, self)
        default:
            throw .typeError("'\(f.typeName)' object is not callable")
        }
    }

    /// `obj.name(args)`: the same as `getattr` then call, without building the bound method for
    /// the built-in types' methods.
    func callAttribute(_ obj: Value, _ name: Name, _ args: Arguments) throws(JinjaError) -> Value {
        if let member = name.member {
            switch obj {
            case .string:
                if member.isStringMethod { return try callMethod(obj, name, args) }
            case .dict:
                if let safe = member.dictMethodIsSafe {
                    if !safe { throw JinjaError.security("access to attribute \(PyRepr.string(name.text)) of 'dict' object is unsafe.") }
                    return try callMethod(obj, name, args)
                }
            case .list:
                if let safe = member.listMethodIsSafe {
                    if !safe { throw JinjaError.security("access to attribute \(PyRepr.string(name.text)) of 'list' object is unsafe.") }
                    return try callMethod(obj, name, args)
                }
            default:
                break
            }
        }
        return try callValue(try getattr(obj, name), args)
    }

    /// Calls the method `name` of a built-in value or object.
    func callMethod(_ receiver: Value, _ name: Name, _ args: Arguments) throws(JinjaError) -> Value {
        guard let member = name.member else {
            throw .attributeError("'\(receiver.typeName)' object has no attribute \(PyRepr.string(name.text))")
        }
        switch receiver {
        case .string(let s): return try PythonMethods.callString(s, member, args, self)
        case .list(let l), .tuple(let l): return try PythonMethods.callList(receiver, l, member, args, self)
        case .dict(let d): return try PythonMethods.callDict(d, member, args, self)
        case .int, .bool, .float: return try PythonMethods.callNumber(receiver, member, args)
        case .object(let o):
            if let loop = o as? LoopContext {
                if member == .cycle { return try loop.cycle(args) }
                if member == .changed { return try loop.changed(args, self) }
            }
            if let c = o as? Cycler {
                if member == .next || member == .dunderNext { return c.next() }
                if member == .reset { c.position = 0; return .none }
            }
            if let r = o as? RangeObject, member == .count || member == .index {
                try PythonMethods.arity(name.text, args, 1, 1)
                let x = args.positional[0]
                var found: Int? = nil
                if case .int(let i) = x, r.count > 0 {
                    let (off, overflow) = i.subtractingReportingOverflow(r.start)
                    if !overflow && off % r.step == 0 {
                        let k = off / r.step
                        if k >= 0 && k < r.count { found = k }
                    }
                }
                if member == .count { return .int(found == nil ? 0 : 1) }
                guard let found else { throw .valueError("\(PyRepr.repr(x)) is not in range") }
                return .int(found)
            }
            throw .attributeError("'\(o.typeName)' object has no attribute \(PyRepr.string(name.text))")
        default:
            throw .attributeError("'\(receiver.typeName)' object has no attribute \(PyRepr.string(name.text))")
        }
    }
}

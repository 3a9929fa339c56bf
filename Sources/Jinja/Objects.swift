// The Python objects a template can meet besides plain values, each as its jinja2/transformers
// original behaves: transformers' `TemplateNamespace`, jinja2's `LoopContext`, `Macro`,
// `Cycler`, `Joiner`, built-in functions and bound methods, generators, `range`, dict views.

/// Iterates a value as Python's `iter()` would: lists, tuples and dict keys by index, strings by
/// code point, generators and ranges lazily.
struct ValueIterator {
    enum Source {
        case values([Value])
        case chars(PyString)
        case generator(PyGenerator)
        case range(start: Int, step: Int, count: Int)
    }

    var source: Source
    var index = 0

    init(_ source: Source) { self.source = source }
    static let empty = ValueIterator(.values([]))

    /// The number of items when the iterated object has a `len()`.
    var knownCount: Int? {
        switch source {
        case .values(let v): return v.count
        case .chars(let s): return s.count
        case .generator: return nil
        case .range(_, _, let c): return c
        }
    }

    mutating func next(_ interp: Interpreter) throws(JinjaError) -> Value? {
        switch source {
        case .values(let v):
            guard index < v.count else { return nil }
            index += 1
            return v[index - 1]
        case .chars(let s):
            guard index < s.utf8.count else { return nil }
            let n = PyUnicode.sequenceLength(s.utf8[index])
            let end = min(index + n, s.utf8.count)
            let c = s.slice(index..<end)
            index = end
            return .string(c)
        case .generator(let g):
            return try g.next(interp)
        case .range(let start, let step, let count):
            guard index < count else { return nil }
            index += 1
            return .int(start + (index - 1) * step)
        }
    }

    /// All remaining items.
    mutating func collect(_ interp: Interpreter) throws(JinjaError) -> [Value] {
        var out: [Value] = []
        if case .values(let v) = source {
            out = Array(v[index...])
            index = v.count
            return out
        }
        while let x = try next(interp) {
            out.append(x)
            try interp.budget.step()
            if out.count > interp.budget.limits.maxContainerLength {
                throw Budget.containerError(out.count, interp.budget.limits.maxContainerLength)
            }
        }
        return out
    }
}

/// transformers' `TemplateNamespace` (jinja2's `Namespace` that refuses `_` names).
final class Namespace: PyObject, @unchecked Sendable {
    var names: [String] = []
    var values: [Value] = []

    override var typeName: String { "TemplateNamespace" }
    override var qualifiedTypeName: String { "transformers.utils.chat_template_utils.TemplateNamespace" }

    override func repr() -> String {
        let items = zip(names, values).map { "\(PyRepr.string($0)): \(PyRepr.repr($1))" }
        return "<Namespace {\(items.joined(separator: ", "))}>"
    }

    func get(_ name: String) -> Value? {
        for (i, n) in names.enumerated() where n == name { return values[i] }
        return nil
    }

    func set(_ name: String, _ value: Value) throws(JinjaError) {
        try Namespace.checkName(name)
        for (i, n) in names.enumerated() where n == name {
            values[i] = value
            return
        }
        names.append(name)
        values.append(value)
    }

    static func checkName(_ name: String) throws(JinjaError) {
        if name.hasPrefix("_") {
            throw .security("Chat templates cannot store underscore-prefixed attributes on a namespace, but got \(PyRepr.string(name)). Please rename the attribute.")
        }
    }

    override func attribute(_ name: Name, _ interp: Interpreter) throws(JinjaError) -> Value? {
        if name.member == .dunderClass { return .object(NamespaceType()) }
        return get(name.text)
    }
}

/// jinja2's `LoopContext`: `loop.index`, `loop.last`, ...
final class LoopContext: PyObject, @unchecked Sendable {
    var iterator: ValueIterator
    var index0 = -1
    var cachedLength: Int?
    var peeked: Value?
    var peekedEnd = false
    var current: Value?
    var before: Value?
    var lastChanged: [Value]?
    let depth0: Int
    /// For `loop(children)` in a recursive loop: the loop's code and the activation it runs under.
    let recurse: (code: ForCode, parent: Activation)?

    init(iterator: ValueIterator, depth0: Int, recurse: (code: ForCode, parent: Activation)?) {
        self.iterator = iterator
        self.cachedLength = iterator.knownCount
        self.depth0 = depth0
        self.recurse = recurse
    }

    override var typeName: String { "LoopContext" }
    override var qualifiedTypeName: String { "jinja2.runtime.LoopContext" }
    override var isCallable: Bool { true }

    /// `__next__`: the next item (taking a peeked one first).
    func advance(_ interp: Interpreter) throws(JinjaError) -> Value? {
        let rv: Value
        if let p = peeked {
            rv = p
            peeked = nil
        } else if peekedEnd {
            return nil
        } else {
            guard let v = try iterator.next(interp) else { return nil }
            rv = v
        }
        index0 += 1
        before = current
        current = rv
        return rv
    }

    func peek(_ interp: Interpreter) throws(JinjaError) -> Value? {
        if let p = peeked { return p }
        if peekedEnd { return nil }
        if let v = try iterator.next(interp) {
            peeked = v
            return v
        }
        peekedEnd = true
        return nil
    }

    func length(_ interp: Interpreter) throws(JinjaError) -> Int {
        if let n = cachedLength { return n }
        let rest = try iterator.collect(interp)
        iterator = ValueIterator(.values(rest))
        let n = rest.count + index0 + 1 + (peeked != nil ? 1 : 0)
        cachedLength = n
        return n
    }

    override func repr() -> String { "<LoopContext \(index0 + 1)/\(cachedLength.map(String.init) ?? "?")>" }

    override func attribute(_ name: Name, _ interp: Interpreter) throws(JinjaError) -> Value? {
        switch name.member {
        case .index0: return .int(index0)
        case .index: return .int(index0 + 1)
        case .first: return .bool(index0 == 0)
        case .last: return .bool(try peek(interp) == nil)
        case .length: return .int(try length(interp))
        case .revindex: return .int(try length(interp) - index0)
        case .revindex0: return .int(try length(interp) - index0 - 1)
        case .depth: return .int(depth0 + 1)
        case .depth0: return .int(depth0)
        case .previtem:
            if index0 == 0 { return Undefined.hint("there is no previous item") }
            return before
        case .nextitem:
            if let n = try peek(interp) { return n }
            return Undefined.hint("there is no next item")
        case .cycle, .changed:
            return .object(BoundMethod(.object(self), name, typeName: "method"))
        default: return nil
        }
    }

    func cycle(_ args: Arguments) throws(JinjaError) -> Value {
        if args.positional.isEmpty { throw .typeError("no items for cycling given") }
        let n = args.positional.count
        return args.positional[((index0 % n) + n) % n]
    }

    func changed(_ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        let vals = args.positional
        if let last = lastChanged, last.count == vals.count {
            var same = true
            for (a, b) in zip(last, vals) where !(try interp.equals(a, b)) { same = false; break }
            if same { return .bool(false) }
        }
        lastChanged = vals
        return .bool(true)
    }

    override func call(_ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        guard let recurse else {
            throw .typeError("The loop must have the 'recursive' marker to be called recursively.")
        }
        guard args.positional.count == 1, args.keywords.isEmpty else {
            throw .typeError("loop() takes 1 positional argument but \(args.positional.count) were given")
        }
        return .string(try interp.runRecursiveLoop(recurse.code, args.positional[0], depth0: depth0 + 1, parent: recurse.parent))
    }
}

/// jinja2's `Macro` (also a call block's `caller` and transformers' generation body).
final class MacroObject: PyObject, @unchecked Sendable {
    let code: MacroCode
    let closure: Activation

    init(_ code: MacroCode, closure: Activation) {
        self.code = code
        self.closure = closure
    }

    override var typeName: String { "Macro" }
    override var qualifiedTypeName: String { "jinja2.runtime.Macro" }
    override var isCallable: Bool { true }
    override func repr() -> String { "<Macro \(code.name.map { PyRepr.string($0) } ?? "anonymous")>" }

    override func attribute(_ name: Name, _ interp: Interpreter) throws(JinjaError) -> Value? {
        switch name.member {
        case .name: return code.name.map { .str($0) }
        case .arguments: return .tuple(PyList(code.params.map { .str($0) }))
        case .catchKwargs: return .bool(code.kwargsSlot != nil)
        case .catchVarargs: return .bool(code.varargsSlot != nil)
        case .caller: return .bool(code.callerSlot != nil)
        default: return nil
        }
    }

    override func call(_ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        try interp.callMacro(self, args)
    }
}

/// A built-in function (`raise_exception`, `strftime_now`, `range`, ...).
final class BuiltinFunction: PyObject, @unchecked Sendable {
    let name: String
    let body: (Arguments, Interpreter) throws(JinjaError) -> Value

    init(_ name: String, _ body: @escaping (Arguments, Interpreter) throws(JinjaError) -> Value) {
        self.name = name
        self.body = body
    }

    override var typeName: String { "function" }
    override var isCallable: Bool { true }
    override func repr() -> String { "<function \(name)>" }

    override func call(_ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        try body(args, interp)
    }
}

/// A method bound to its object (`"a,b".split`, `loop.cycle`, `d.items`).
final class BoundMethod: PyObject, @unchecked Sendable {
    let receiver: Value
    let name: Name
    let methodTypeName: String

    init(_ receiver: Value, _ name: Name, typeName: String = "builtin_function_or_method") {
        self.receiver = receiver
        self.name = name
        self.methodTypeName = typeName
    }

    override var typeName: String { methodTypeName }
    override var isCallable: Bool { true }
    override func repr() -> String {
        if methodTypeName == "method" { return "<bound method \(receiver.typeName).\(name.text) of \(PyRepr.repr(receiver))>" }
        return "<built-in method \(name.text) of \(receiver.typeName) object>"
    }

    override func call(_ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        try interp.callMethod(receiver, name, args)
    }
}

/// A Python generator (what `map`, `select`, `reject`, `items`, `unique`, ... return): lazy and
/// single-use.
final class PyGenerator: PyObject, @unchecked Sendable {
    let name: String
    let generatorTypeName: String
    private var step: ((Interpreter) throws(JinjaError) -> Value?)?

    init(_ name: String, typeName: String = "generator", _ step: @escaping (Interpreter) throws(JinjaError) -> Value?) {
        self.name = name
        self.generatorTypeName = typeName
        self.step = step
    }

    override var typeName: String { generatorTypeName }
    override func repr() -> String {
        generatorTypeName == "generator" ? "<generator object \(name)>" : "<\(generatorTypeName) object>"
    }

    func next(_ interp: Interpreter) throws(JinjaError) -> Value? {
        guard let s = step else { return nil }
        if let v = try s(interp) { return v }
        step = nil
        return nil
    }

    override func makeIterator(_ interp: Interpreter) throws(JinjaError) -> ValueIterator? {
        ValueIterator(.generator(self))
    }

    /// A generator over the remaining items of an iterator.
    static func over(_ name: String, typeName: String = "generator", _ it: ValueIterator) -> PyGenerator {
        var iter = it
        return PyGenerator(name, typeName: typeName) { (interp) throws(JinjaError) -> Value? in try iter.next(interp) }
    }
}

/// `range(start, stop, step)`.
final class RangeObject: PyObject, @unchecked Sendable {
    let start: Int, stop: Int, step: Int
    let count: Int

    init(start: Int, stop: Int, step: Int) {
        self.start = start
        self.stop = stop
        self.step = step
        let n = RangeObject.length(start: start, stop: stop, step: step)
        count = n > UInt(Int.max) ? Int.max : Int(n)
    }

    /// The number of items, in unsigned arithmetic (stop - start can exceed Int.max).
    static func length(start: Int, stop: Int, step: Int) -> UInt {
        let span: UInt = step > 0 ? (stop > start ? UInt(bitPattern: stop &- start) : 0)
                                  : (start > stop ? UInt(bitPattern: start &- stop) : 0)
        return span == 0 ? 0 : (span - 1) / step.magnitude + 1
    }

    override var typeName: String { "range" }
    override var isTruthy: Bool { count > 0 }
    override var length: Int? { count }
    override var hasGetItem: Bool { true }
    override func repr() -> String { step == 1 ? "range(\(start), \(stop))" : "range(\(start), \(stop), \(step))" }

    override func makeIterator(_ interp: Interpreter) throws(JinjaError) -> ValueIterator? {
        ValueIterator(.range(start: start, step: step, count: count))
    }

    override func attribute(_ name: Name, _ interp: Interpreter) throws(JinjaError) -> Value? {
        switch name.member {
        case .start: return .int(start)
        case .stop: return .int(stop)
        case .step: return .int(step)
        case .count, .index: return .object(BoundMethod(.object(self), name))
        default: return nil
        }
    }

    func item(_ i: Int) -> Int? {
        let j = i < 0 ? i + count : i
        guard j >= 0 && j < count else { return nil }
        return start + j * step
    }
}

/// `dict.keys()`, `dict.values()`, `dict.items()`.
final class DictView: PyObject, @unchecked Sendable {
    enum Kind { case keys, values, items }
    let kind: Kind
    let dict: PyDict

    init(_ kind: Kind, _ dict: PyDict) {
        self.kind = kind
        self.dict = dict
    }

    override var typeName: String {
        switch kind {
        case .keys: return "dict_keys"
        case .values: return "dict_values"
        case .items: return "dict_items"
        }
    }
    override var isTruthy: Bool { dict.count > 0 }
    override var length: Int? { dict.count }
    override var unhashableTypeName: String? { kind == .values ? nil : typeName }

    var elements: [Value] {
        switch kind {
        case .keys: return dict.keys
        case .values: return dict.values
        case .items: return zip(dict.keys, dict.values).map { .tuple(PyList([$0, $1])) }
        }
    }

    override func repr() -> String {
        "\(typeName)([\(elements.map { PyRepr.repr($0) }.joined(separator: ", "))])"
    }

    override func makeIterator(_ interp: Interpreter) throws(JinjaError) -> ValueIterator? {
        ValueIterator(.values(elements))
    }
}

/// jinja2's `Cycler` (the `cycler` global).
final class Cycler: PyObject, @unchecked Sendable {
    let items: [Value]
    var position = 0

    init(_ items: [Value]) { self.items = items }

    override var typeName: String { "Cycler" }
    override var qualifiedTypeName: String { "jinja2.utils.Cycler" }

    override func attribute(_ name: Name, _ interp: Interpreter) throws(JinjaError) -> Value? {
        switch name.member {
        case .current: return items[position]
        case .items: return .list(PyList(items))
        case .next, .reset, .dunderNext: return .object(BoundMethod(.object(self), name, typeName: "method"))
        default: return nil
        }
    }

    func next() -> Value {
        let rv = items[position]
        position = (position + 1) % items.count
        return rv
    }
}

/// jinja2's `Joiner` (the `joiner` global): "" the first time, the separator afterwards.
final class Joiner: PyObject, @unchecked Sendable {
    let separator: Value
    var used = false

    init(_ separator: Value) { self.separator = separator }

    override var typeName: String { "Joiner" }
    override var qualifiedTypeName: String { "jinja2.utils.Joiner" }
    override var isCallable: Bool { true }

    override func call(_ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        if !used {
            used = true
            return .emptyString
        }
        return separator
    }
}

/// transformers' `TemplateDict` (the `dict` global): `dict(...)` and `dict.fromkeys(...)`.
final class TemplateDict: PyObject, @unchecked Sendable {
    override var typeName: String { "TemplateDict" }
    override var qualifiedTypeName: String { "transformers.utils.chat_template_utils.TemplateDict" }
    override var isCallable: Bool { true }

    override func attribute(_ name: Name, _ interp: Interpreter) throws(JinjaError) -> Value? {
        name.member == .fromkeys ? .object(BuiltinFunction("fromkeys") { (args, interp) throws(JinjaError) in
            try Builtins.dictFromKeys(args, interp)
        }) : nil
    }

    override func call(_ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        try Builtins.makeDict(args, interp)
    }
}

/// The `namespace` global (a class: calling it makes a namespace).
final class NamespaceType: PyObject, @unchecked Sendable {
    override var typeName: String { "type" }
    override var isCallable: Bool { true }
    override func repr() -> String { "<class 'transformers.utils.chat_template_utils.TemplateNamespace'>" }

    override func call(_ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        try Builtins.makeNamespace(args, interp)
    }
}

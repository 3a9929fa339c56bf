// Value: the runtime value model, the Python objects a template can see.
//
//   None, bool, int (64-bit here), float, str (`PyString`), list, tuple, dict (insertion order,
//   Python key equality: 1 == 1.0 == True), jinja2's Undefined, and objects (`PyObject`
//   subclasses): namespace, the loop object, macros, built-in functions and bound methods,
//   generators (what `map`, `select`, `items`, ... return: lazy and single-use, as in Python),
//   range, dict views, cycler, joiner.
//
// The immutable sandbox forbids changing lists and dicts, so they are values (copy on write) and
// only namespaces are mutable. Containers record how deeply they nest, so a template cannot build
// a structure deeper than `JinjaLimits.maxNestingDepth` (which would make printing it, or freeing
// it, recurse without bound).

enum Value: Sendable {
    case undefined(Undefined)
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(PyString)
    case list(PyList)
    case tuple(PyList)
    case dict(PyDict)
    case object(PyObject)

    static func str(_ s: String) -> Value { .string(PyString(s)) }
    static let emptyString = Value.string(.empty)

    /// Python's `type(x).__name__`.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string(let s): return s.isMarkup ? "Markup" : "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .object(let o): return o.typeName
        }
    }

    /// jinja2's `object_type_repr`: "dict object", "None", ...
    var objectTypeRepr: String {
        switch self {
        case .none: return "None"
        case .string(let s) where s.isMarkup: return "markupsafe.Markup object"
        case .undefined: return "jinja2.runtime.Undefined object"
        case .object(let o): return o.qualifiedTypeName + " object"
        default: return "\(typeName) object"
        }
    }

    /// Python truthiness.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let l), .tuple(let l): return !l.items.isEmpty
        case .dict(let d): return d.count > 0
        case .object(let o): return o.isTruthy
        }
    }

    var isUndefined: Bool { if case .undefined = self { return true }; return false }
    var isNone: Bool { if case .none = self { return true }; return false }

    var stringValue: PyString? { if case .string(let s) = self { return s }; return nil }

    /// How deeply containers nest inside this value (0 for scalars).
    var nestingDepth: Int {
        switch self {
        case .list(let l), .tuple(let l): return l.depth
        case .dict(let d): return d.depth
        default: return 0
        }
    }
}

/// A list or tuple's elements, with their nesting depth.
struct PyList: Sendable {
    var items: [Value]
    var depth: Int

    init(_ items: [Value]) {
        self.items = items
        var d = 0
        for v in items {
            let n = v.nestingDepth
            if n > d { d = n }
        }
        depth = d + 1
    }

    init(_ items: [Value], depth: Int) {
        self.items = items
        self.depth = depth
    }

    static let empty = PyList([], depth: 1)
}

/// jinja2's `Undefined`: what a missing variable, attribute or item evaluates to. Printing it
/// gives "", iterating it gives nothing, it is false; most other operations raise its error.
final class Undefined: Sendable {
    enum Reason: Sendable {
        /// A variable that does not exist.
        case name(String)
        /// `obj.attr` or `obj["key"]` with a string key.
        case attribute(of: Value, name: String)
        /// `obj[key]` with a non-string key.
        case element(of: Value, key: Value)
        /// A message of its own.
        case hint(String)
    }

    let reason: Reason
    /// The exception its misuse raises: `UndefinedError`, or `SecurityError` for an unsafe attribute.
    let errorType: String

    init(_ reason: Reason, errorType: String = "UndefinedError") {
        self.reason = reason
        self.errorType = errorType
    }

    /// jinja2's `_undefined_message`.
    var message: String {
        switch reason {
        case .name(let n): return "\(PyRepr.string(n)) is undefined"
        case .attribute(let obj, let name): return "\(PyRepr.string(obj.objectTypeRepr)) has no attribute \(PyRepr.string(name))"
        case .element(let obj, let key): return "\(obj.objectTypeRepr) has no element \(PyRepr.repr(key))"
        case .hint(let h): return h
        }
    }

    /// The error raised when the template does something an undefined value cannot do.
    var error: JinjaError {
        JinjaError(.evaluation, errorType, message)
    }

    static func missingAttribute(of obj: Value, _ name: String) -> Value {
        .undefined(Undefined(.attribute(of: obj, name: name)))
    }

    static func missingItem(of obj: Value, _ key: Value) -> Value {
        if case .string(let s) = key {
            return .undefined(Undefined(.attribute(of: obj, name: s.string)))
        }
        return .undefined(Undefined(.element(of: obj, key: key)))
    }

    static func hint(_ h: String) -> Value { .undefined(Undefined(.hint(h))) }
}

/// A Python dict: insertion-ordered, immutable once built (the sandbox refuses mutation).
/// Lookups scan small dicts and hash larger ones.
final class PyDict: Sendable {
    let keys: [Value]
    let values: [Value]
    let depth: Int
    private let index: [HashKey: Int]?

    var count: Int { keys.count }

    /// Builds a dict from pairs with Python's rule for repeated keys: first position, last value.
    /// - Throws: `TypeError` for an unhashable key.
    init(pairs: [(Value, Value)]) throws(JinjaError) {
        var ks: [Value] = []
        var vs: [Value] = []
        ks.reserveCapacity(pairs.count)
        vs.reserveCapacity(pairs.count)
        var idx: [HashKey: Int] = [:]
        let large = pairs.count > PyDict.scanLimit
        var d = 0
        for (k, v) in pairs {
            let hk = try HashKey(k)
            if large {
                if let at = idx[hk] { vs[at] = v; continue }
                idx[hk] = ks.count
            } else if let at = PyDict.scan(ks, hk) {
                vs[at] = v
                continue
            }
            ks.append(k)
            vs.append(v)
        }
        for v in vs where v.nestingDepth > d { d = v.nestingDepth }
        keys = ks
        values = vs
        depth = d + 1
        index = large ? idx : nil
    }

    /// A dict whose keys are known to be distinct.
    init(uniqueKeys ks: [Value], values vs: [Value]) {
        keys = ks
        values = vs
        var d = 0
        for v in vs where v.nestingDepth > d { d = v.nestingDepth }
        depth = d + 1
        if ks.count > PyDict.scanLimit {
            var idx: [HashKey: Int] = [:]
            for (i, k) in ks.enumerated() {
                if let hk = try? HashKey(k) { idx[hk] = i }
            }
            index = idx
        } else {
            index = nil
        }
    }

    static let scanLimit = 8
    static let empty = PyDict(uniqueKeys: [], values: [])

    static func scan(_ ks: [Value], _ hk: HashKey) -> Int? {
        for (i, k) in ks.enumerated() where hk.matches(k) { return i }
        return nil
    }

    /// The value for `key`, or nil. - Throws: `TypeError` for an unhashable key.
    func get(_ key: Value) throws(JinjaError) -> Value? {
        let hk = try HashKey(key)
        if let index {
            if let i = index[hk] { return values[i] }
            return nil
        }
        if let i = PyDict.scan(keys, hk) { return values[i] }
        return nil
    }

    /// The value for a string key (the common `message['role']`).
    func get(string key: [UInt8]) -> Value? {
        if let index {
            if let i = index[.string(key)] { return values[i] }
            return nil
        }
        for (i, k) in keys.enumerated() {
            if case .string(let s) = k, s.utf8 == key { return values[i] }
        }
        return nil
    }

    func contains(_ key: Value) throws(JinjaError) -> Bool { try get(key) != nil }
}

/// A hashable key with Python's equality: numbers compare by value (True == 1 == 1.0), strings by
/// content, tuples element-wise; lists and dicts are unhashable.
enum HashKey: Hashable {
    case none
    case number(Double, Int?)
    case string([UInt8])
    case tuple([HashKey])
    case undefined
    case object(ObjectIdentifier)

    init(_ v: Value) throws(JinjaError) {
        switch v {
        case .none: self = .none
        case .bool(let b): self = .number(b ? 1 : 0, b ? 1 : 0)
        case .int(let i): self = .number(Double(i), i)
        case .float(let d):
            if d.rounded(.towardZero) == d, abs(d) < 9.2e18 { self = .number(d, Int(d)) } else { self = .number(d, nil) }
        case .string(let s): self = .string(s.utf8)
        case .tuple(let t):
            var ks: [HashKey] = []
            for x in t.items { ks.append(try HashKey(x)) }
            self = .tuple(ks)
        case .undefined: self = .undefined
        case .list: throw .typeError("unhashable type: 'list'")
        case .dict: throw .typeError("unhashable type: 'dict'")
        case .object(let o):
            if let u = o.unhashableTypeName { throw .typeError("unhashable type: '\(u)'") }
            self = .object(ObjectIdentifier(o))
        }
    }

    static func == (a: HashKey, b: HashKey) -> Bool {
        switch (a, b) {
        case (.none, .none), (.undefined, .undefined): return true
        case let (.number(x, xi), .number(y, yi)):
            if let xi, let yi { return xi == yi }
            return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.tuple(x), .tuple(y)): return x == y
        case let (.object(x), .object(y)): return x == y
        default: return false
        }
    }

    func hash(into h: inout Hasher) {
        switch self {
        case .none: h.combine(0)
        case .undefined: h.combine(1)
        case .number(let d, let i):
            if let i { h.combine(i) } else { h.combine(d) }
        case .string(let s): h.combine(bytes: UnsafeRawBufferPointer(start: nil, count: 0)); h.combine(s)
        case .tuple(let t): h.combine(t)
        case .object(let o): h.combine(o)
        }
    }

    /// Whether the value `v` is equal to this key (without building its key).
    func matches(_ v: Value) -> Bool {
        switch (self, v) {
        case (.string(let s), .string(let t)): return s == t.utf8
        case (.string, _): return false
        default:
            guard let k = try? HashKey(v) else { return false }
            return k == self
        }
    }
}

/// Everything that is not a plain value: namespaces, the loop object, macros, functions,
/// generators, ... Subclasses override what their Python type supports.
class PyObject: @unchecked Sendable {
    /// `type(x).__name__`.
    var typeName: String { "object" }
    /// The module-qualified name jinja2 shows in undefined-attribute messages.
    var qualifiedTypeName: String { typeName }
    var isTruthy: Bool { true }
    var isCallable: Bool { false }
    /// Non-nil for types Python cannot hash (used as dict keys or in `unique`).
    var unhashableTypeName: String? { nil }
    /// `len(x)`, when the type has a length.
    var length: Int? { nil }
    /// Whether `x.__getitem__` exists (the `sequence` test).
    var hasGetItem: Bool { false }
    /// Python `repr(x)`.
    func repr() -> String { "<\(typeName) object>" }

    /// `getattr(x, name)`; nil when the attribute does not exist.
    func attribute(_ name: Name, _ interp: Interpreter) throws(JinjaError) -> Value? { nil }

    /// `x(*args, **kwargs)`.
    func call(_ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        throw .typeError("'\(typeName)' object is not callable")
    }

    /// `iter(x)`; nil when the object is not iterable.
    func makeIterator(_ interp: Interpreter) throws(JinjaError) -> ValueIterator? { nil }
}

/// Positional and keyword arguments of a call.
struct Arguments {
    var positional: [Value]
    var keywords: [(String, Value)]

    init(_ positional: [Value] = [], _ keywords: [(String, Value)] = []) {
        self.positional = positional
        self.keywords = keywords
    }

    var isEmpty: Bool { positional.isEmpty && keywords.isEmpty }

    func keyword(_ name: String) -> Value? {
        for (k, v) in keywords where k == name { return v }
        return nil
    }
}

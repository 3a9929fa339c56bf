// jinja2's built-in tests (`tests.py`): `x is defined`, `x is string`, `x is divisibleby(3)`, ...
// Python's notions: `number` includes bool, `integer` excludes it, `sequence` is anything with
// `len()` and `__getitem__` (strings, lists, dicts, and jinja2's Undefined), `iterable` anything
// `iter()` accepts (Undefined too), `mapping` only dicts.

enum Test: Sendable {
    case odd, even, divisibleby, defined, undefined, filter, test, none, boolean, `false`, `true`, integer, float,
         lower, upper, string, mapping, number, sequence, iterable, callable, sameas, escaped, `in`
    case eq, ne, gt, ge, lt, le

    init?(name: String) {
        switch name {
        case "odd": self = .odd
        case "even": self = .even
        case "divisibleby": self = .divisibleby
        case "defined": self = .defined
        case "undefined": self = .undefined
        case "filter": self = .filter
        case "test": self = .test
        case "none": self = .none
        case "boolean": self = .boolean
        case "false": self = .false
        case "true": self = .true
        case "integer": self = .integer
        case "float": self = .float
        case "lower": self = .lower
        case "upper": self = .upper
        case "string": self = .string
        case "mapping": self = .mapping
        case "number": self = .number
        case "sequence": self = .sequence
        case "iterable": self = .iterable
        case "callable": self = .callable
        case "sameas": self = .sameas
        case "escaped": self = .escaped
        case "in": self = .in
        case "==", "eq", "equalto": self = .eq
        case "!=", "ne": self = .ne
        case ">", "gt", "greaterthan": self = .gt
        case ">=", "ge": self = .ge
        case "<", "lt", "lessthan": self = .lt
        case "<=", "le": self = .le
        default: return nil
        }
    }

    /// How many arguments the test takes after the value.
    var argumentCount: Int {
        switch self {
        case .divisibleby, .sameas, .in, .eq, .ne, .gt, .ge, .lt, .le: return 1
        default: return 0
        }
    }
}

extension Interpreter {
    func applyTest(_ t: Test, _ v: Value, _ a: Arguments) throws(JinjaError) -> Bool {
        let n = t.argumentCount
        if !a.keywords.isEmpty || a.positional.count != n {
            if a.positional.count + a.keywords.count != n {
                throw .typeError("test takes \(n + 1) positional argument\(n == 0 ? "" : "s") but \(a.positional.count + 1) were given")
            }
        }
        let arg = a.positional.first ?? a.keywords.first?.1 ?? .none
        switch t {
        case .odd, .even:
            let r = try binary(.mod, v, .int(2))
            return try equals(r, .int(t == .odd ? 1 : 0))
        case .divisibleby:
            return try equals(try binary(.mod, v, arg), .int(0))
        case .defined: return !v.isUndefined
        case .undefined: return v.isUndefined
        case .filter:
            if case .string(let s) = v { return Filter(rawValue: s.string) != nil }
            return false
        case .test:
            if case .string(let s) = v { return Test(name: s.string) != nil }
            return false
        case .none: return v.isNone
        case .boolean: if case .bool = v { return true }; return false
        case .false: if case .bool(let b) = v { return !b }; return false
        case .true: if case .bool(let b) = v { return b }; return false
        case .integer: if case .int = v { return true }; return false
        case .float: if case .float = v { return true }; return false
        case .lower: return PythonMethods.predicate(try PyFormat.str(v, self).string, "islower")
        case .upper: return PythonMethods.predicate(try PyFormat.str(v, self).string, "isupper")
        case .string: if case .string = v { return true }; return false
        case .mapping: if case .dict = v { return true }; return false
        case .number: return Interpreter.number(v) != nil
        case .sequence:
            switch v {
            case .string, .list, .tuple, .dict, .undefined: return true
            case .object(let o): return o.length != nil && o.hasGetItem
            default: return false
            }
        case .iterable:
            switch v {
            case .string, .list, .tuple, .dict, .undefined: return true
            case .object(let o): return try o.makeIterator(self) != nil
            default: return false
            }
        case .callable:
            if case .object(let o) = v { return o.isCallable }
            return false
        case .sameas:
            switch (v, arg) {
            case (.none, .none): return true
            case let (.bool(x), .bool(y)): return x == y
            case let (.object(x), .object(y)): return x === y
            case let (.int(x), .int(y)): return x == y && x >= -5 && x <= 256
            default: return false
            }
        case .escaped:
            if case .string(let s) = v { return s.isMarkup }
            return false
        case .in: return try contains(arg, v)
        case .eq: return try equals(v, arg)
        case .ne: return !(try equals(v, arg))
        case .gt: return try order(v, arg, ">") > 0
        case .ge: return try order(v, arg, ">=") >= 0
        case .lt: return try order(v, arg, "<") < 0
        case .le: return try order(v, arg, "<=") <= 0
        }
    }
}

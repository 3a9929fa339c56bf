// Python methods of lists, tuples, dicts and numbers that templates call (append, index, items,
// get, keys, values, ...), with Python's argument checking and error messages.

extension PythonMethods {
    // MARK: list, tuple, dict, numbers

    static func callList(_ receiver: Value, _ l: PyList, _ member: Member, _ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        let isTuple = { if case .tuple = receiver { return true }; return false }()
        let name = member.rawValue
        switch member {
        case .count:
            try arity(name, args, 1, 1)
            var n = 0
            for x in l.items where try interp.equals(x, args.positional[0]) { n += 1 }
            return .int(n)
        case .index:
            try arity(name, args, 1, 3)
            let count = l.items.count
            func bound(_ v: Value?, _ d: Int) throws(JinjaError) -> Int {
                guard let v else { return d }
                var i = try intArg(v)
                if i < 0 { i = max(i + count, 0) }
                return min(i, count)
            }
            let lo = try bound(args.positional.count > 1 ? args.positional[1] : nil, 0)
            let hi = try bound(args.positional.count > 2 ? args.positional[2] : nil, count)
            if lo < hi {
                for i in lo..<hi where try interp.equals(l.items[i], args.positional[0]) { return .int(i) }
            }
            if isTuple { throw .valueError("tuple.index(x): x not in tuple") }
            throw .valueError("\(PyRepr.repr(args.positional[0])) is not in list")
        case .copy where !isTuple:
            try arity(name, args, 0, 0)
            return receiver
        default:
            throw .attributeError("'\(receiver.typeName)' object has no attribute \(PyRepr.string(name))")
        }
    }

    static func callDict(_ d: PyDict, _ member: Member, _ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        let name = member.rawValue
        switch member {
        case .get:
            if !args.keywords.isEmpty { throw .typeError("get() takes no keyword arguments") }
            let n = args.positional.count
            if n < 1 || n > 2 { throw .typeError("get expected \(n < 1 ? "at least 1 argument" : "at most 2 arguments"), got \(n)") }
            return try d.get(args.positional[0]) ?? (n > 1 ? args.positional[1] : .none)
        case .items:
            try arity(name, args, 0, 0)
            return .object(DictView(.items, d))
        case .keys:
            try arity(name, args, 0, 0)
            return .object(DictView(.keys, d))
        case .values:
            try arity(name, args, 0, 0)
            return .object(DictView(.values, d))
        case .copy:
            try arity(name, args, 0, 0)
            return .dict(d)
        case .fromkeys:
            return try Builtins.dictFromKeys(args, interp)
        default:
            throw .attributeError("'dict' object has no attribute \(PyRepr.string(name))")
        }
    }

    static func numberAttribute(_ v: Value, _ name: Name) throws(JinjaError) -> Value? {
        switch (v, name.member) {
        case (.float(let d), .real): return .float(d)
        case (.float, .imag): return .float(0)
        case (.int, .real), (.int, .numerator): return v
        case (.bool(let b), .real), (.bool(let b), .numerator): return .int(b ? 1 : 0)
        case (.int, .imag), (.bool, .imag): return .int(0)
        case (.int, .denominator), (.bool, .denominator): return .int(1)
        case (_, .conjugate), (.int, .bitLength), (.bool, .bitLength), (.float, .isInteger):
            return .object(BoundMethod(v, name))
        default: return nil
        }
    }

    static func callNumber(_ v: Value, _ member: Member, _ args: Arguments) throws(JinjaError) -> Value {
        let name = member.rawValue
        try arity(name, args, 0, 0)
        switch (v, member) {
        case (.float(let d), .isInteger): return .bool(d.isFinite && d.rounded(.towardZero) == d)
        case (.int(let i), .bitLength): return .int(Int.bitWidth - i.magnitude.leadingZeroBitCount)
        case (.bool(let b), .bitLength): return .int(b ? 1 : 0)
        case (.bool(let b), .conjugate): return .int(b ? 1 : 0)
        case (_, .conjugate): return v
        default: throw .attributeError("'\(v.typeName)' object has no attribute \(PyRepr.string(name))")
        }
    }
}

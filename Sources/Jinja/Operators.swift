// Operators with Python's semantics: arithmetic (int stays int, `/` is true division, `//` and `%`
// floor, `**`), string and list concatenation and repetition, Markup's escaping `+`,
// comparisons (==, <, chained), `in`, and Python's error messages for every refusal.
// Integers are 64-bit: a result that needs more is a limit error (Python has big integers).

extension Interpreter {
    /// The Python number behind a bool/int/float, or nil.
    enum Number {
        case int(Int)
        case float(Double)
    }

    static func number(_ v: Value) -> Number? {
        switch v {
        case .bool(let b): return .int(b ? 1 : 0)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        default: return nil
        }
    }

    static func asDouble(_ n: Number) -> Double {
        switch n {
        case .int(let i): return Double(i)
        case .float(let d): return d
        }
    }

    static func overflow() -> JinjaError {
        .limit("an integer result does not fit in 64 bits (finetok's Jinja integers are 64-bit; Python's are unbounded)")
    }

    func unsupported(_ op: String, _ a: Value, _ b: Value) -> JinjaError {
        .typeError("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
    }

    func binary(_ op: BinaryOperator, _ a: Value, _ b: Value) throws(JinjaError) -> Value {
        if case .undefined(let u) = a { throw u.error }
        if case .undefined(let u) = b { throw u.error }
        if let x = Interpreter.number(a), let y = Interpreter.number(b) {
            return try arithmetic(op, x, y)
        }
        switch op {
        case .add: return try add(a, b)
        case .mul: return try multiply(a, b)
        case .mod:
            if case .string(let s) = a { return .string(try PyFormat.percent(s, b, self)) }
            throw unsupported("%", a, b)
        default:
            throw unsupported(op.symbol, a, b)
        }
    }

    func arithmetic(_ op: BinaryOperator, _ x: Number, _ y: Number) throws(JinjaError) -> Value {
        if case .int(let i) = x, case .int(let j) = y {
            switch op {
            case .add:
                let (r, o) = i.addingReportingOverflow(j)
                if o { throw Interpreter.overflow() }
                return .int(r)
            case .sub:
                let (r, o) = i.subtractingReportingOverflow(j)
                if o { throw Interpreter.overflow() }
                return .int(r)
            case .mul:
                let (r, o) = i.multipliedReportingOverflow(by: j)
                if o { throw Interpreter.overflow() }
                return .int(r)
            case .div:
                if j == 0 { throw .zeroDivision("division by zero") }
                return .float(Double(i) / Double(j))
            case .floordiv:
                if j == 0 { throw .zeroDivision("integer division or modulo by zero") }
                if i == Int.min && j == -1 { throw Interpreter.overflow() }
                return .int(Interpreter.floorDiv(i, j))
            case .mod:
                if j == 0 { throw .zeroDivision("integer modulo by zero") }
                if j == -1 { return .int(0) }
                let r = i % j
                return .int(r != 0 && (r < 0) != (j < 0) ? r + j : r)
            case .pow:
                if j < 0 {
                    if i == 0 { throw .zeroDivision("0.0 cannot be raised to a negative power") }
                    return .float(Foundation_pow(Double(i), Double(j)))
                }
                var result = 1, base = i, e = j
                while e > 0 {
                    if e & 1 == 1 {
                        let (r, o) = result.multipliedReportingOverflow(by: base)
                        if o { throw Interpreter.overflow() }
                        result = r
                    }
                    e >>= 1
                    if e > 0 {
                        let (sq, o) = base.multipliedReportingOverflow(by: base)
                        if o { throw Interpreter.overflow() }
                        base = sq
                    }
                }
                return .int(result)
            }
        }
        let a = Interpreter.asDouble(x), b = Interpreter.asDouble(y)
        switch op {
        case .add: return .float(a + b)
        case .sub: return .float(a - b)
        case .mul: return .float(a * b)
        case .div:
            if b == 0 { throw .zeroDivision("float division by zero") }
            return .float(a / b)
        case .floordiv:
            if b == 0 { throw .zeroDivision("float floor division by zero") }
            return .float(Interpreter.floatFloorDiv(a, b))
        case .mod:
            if b == 0 { throw .zeroDivision("float modulo") }
            return .float(Interpreter.floatMod(a, b))
        case .pow:
            if a == 0 && b < 0 { throw .zeroDivision("0.0 cannot be raised to a negative power") }
            if a < 0 && b.rounded(.towardZero) != b { throw .notImplemented("a complex result of **") }
            return .float(Foundation_pow(a, b))
        }
    }

    static func floorDiv(_ i: Int, _ j: Int) -> Int {
        let q = i / j
        return (i % j != 0) && ((i < 0) != (j < 0)) ? q - 1 : q
    }

    /// Python's float `%`: the result has the divisor's sign.
    static func floatMod(_ a: Double, _ b: Double) -> Double {
        var m = a.truncatingRemainder(dividingBy: b)
        if m != 0 {
            if (b < 0) != (m < 0) { m += b }
        } else {
            m = b < 0 ? -0.0 : 0.0
        }
        return m
    }

    /// Python's float `//` (from `divmod`).
    static func floatFloorDiv(_ a: Double, _ b: Double) -> Double {
        let mod = a.truncatingRemainder(dividingBy: b)
        var div = (a - mod) / b
        if mod != 0 && (b < 0) != (mod < 0) { div -= 1 }
        if div != 0 {
            var floordiv = div.rounded(.down)
            if div - floordiv > 0.5 { floordiv += 1 }
            return floordiv
        }
        return (a / b < 0) ? -0.0 : 0.0
    }

    func add(_ a: Value, _ b: Value) throws(JinjaError) -> Value {
        switch (a, b) {
        case (.string(let x), .string(let y)):
            var left = x, right = y
            if x.isMarkup && !y.isMarkup { right = PyFormat.escape(y) }
            if y.isMarkup && !x.isMarkup { left = PyFormat.escape(x) }
            let n = left.utf8.count + right.utf8.count
            try budget.string(n)
            var bytes = left.utf8
            bytes.append(contentsOf: right.utf8)
            var p = ProvenanceBuilder()
            p.add(left.provenance, at: 0, length: left.utf8.count)
            p.add(right.provenance, at: left.utf8.count, length: right.utf8.count)
            return .string(PyString(bytes, p.finish(length: n), markup: x.isMarkup || y.isMarkup))
        case (.string(let x), _):
            if x.isMarkup { throw unsupported("+", a, b) }
            throw .typeError("can only concatenate str (not \"\(b.typeName)\") to str")
        case (.list(let x), .list(let y)):
            try budget.container(x.items.count + y.items.count)
            return .list(PyList(x.items + y.items, depth: max(x.depth, y.depth)))
        case (.list, _):
            throw .typeError("can only concatenate list (not \"\(b.typeName)\") to list")
        case (.tuple(let x), .tuple(let y)):
            try budget.container(x.items.count + y.items.count)
            return .tuple(PyList(x.items + y.items, depth: max(x.depth, y.depth)))
        case (.tuple, _):
            throw .typeError("can only concatenate tuple (not \"\(b.typeName)\") to tuple")
        default:
            throw unsupported("+", a, b)
        }
    }

    func multiply(_ a: Value, _ b: Value) throws(JinjaError) -> Value {
        func times(_ v: Value) -> Int? {
            switch v {
            case .int(let i): return i
            case .bool(let b): return b ? 1 : 0
            default: return nil
            }
        }
        func repeated(_ seq: Value, _ count: Value) throws(JinjaError) -> Value {
            guard let n = times(count) else {
                if Interpreter.number(count) != nil || count.stringValue != nil || { if case .list = count { return true }; return false }() {
                    throw .typeError("can't multiply sequence by non-int of type '\(count.typeName)'")
                }
                throw unsupported("*", a, b)
            }
            let k = max(n, 0)
            switch seq {
            case .string(let s):
                let (total, o) = s.utf8.count.multipliedReportingOverflow(by: k)
                if o { throw Budget.stringError(Int.max, budget.limits.maxStringBytes) }
                try budget.string(total)
                var bytes: [UInt8] = []
                bytes.reserveCapacity(total)
                var p = ProvenanceBuilder()
                for _ in 0..<k {
                    p.add(s.provenance, at: bytes.count, length: s.utf8.count)
                    bytes.append(contentsOf: s.utf8)
                }
                return .string(PyString(bytes, p.finish(length: total), markup: s.isMarkup))
            case .list(let l), .tuple(let l):
                let (total, o) = l.items.count.multipliedReportingOverflow(by: k)
                if o { throw Budget.containerError(Int.max, budget.limits.maxContainerLength) }
                try budget.container(total)
                var items: [Value] = []
                items.reserveCapacity(total)
                for _ in 0..<k { items.append(contentsOf: l.items) }
                let r = PyList(items, depth: l.depth)
                if case .tuple = seq { return .tuple(r) }
                return .list(r)
            default:
                throw unsupported("*", a, b)
            }
        }
        switch (a, b) {
        case (.string, _), (.list, _), (.tuple, _): return try repeated(a, b)
        case (_, .string), (_, .list), (_, .tuple):
            if times(a) != nil { return try repeated(b, a) }
            if Interpreter.number(a) != nil {
                throw .typeError("can't multiply sequence by non-int of type '\(a.typeName)'")
            }
            throw unsupported("*", a, b)
        default:
            throw unsupported("*", a, b)
        }
    }

    func negate(_ v: Value) throws(JinjaError) -> Value {
        switch v {
        case .undefined(let u): throw u.error
        case .bool(let b): return .int(b ? -1 : 0)
        case .int(let i):
            if i == Int.min { throw Interpreter.overflow() }
            return .int(-i)
        case .float(let d): return .float(-d)
        default: throw .typeError("bad operand type for unary -: '\(v.typeName)'")
        }
    }

    func positive(_ v: Value) throws(JinjaError) -> Value {
        switch v {
        case .undefined(let u): throw u.error
        case .bool(let b): return .int(b ? 1 : 0)
        case .int, .float: return v
        default: throw .typeError("bad operand type for unary +: '\(v.typeName)'")
        }
    }

    // MARK: Comparisons

    func compare(_ op: CompareOperator, _ a: Value, _ b: Value) throws(JinjaError) -> Bool {
        switch op {
        case .eq: return try equals(a, b)
        case .ne: return !(try equals(a, b))
        case .lt: return try order(a, b, "<") < 0
        case .lteq: return try order(a, b, "<=") <= 0
        case .gt: return try order(a, b, ">") > 0
        case .gteq: return try order(a, b, ">=") >= 0
        case .in: return try contains(b, a)
        case .notin: return !(try contains(b, a))
        }
    }

    /// Python `==`.
    func equals(_ a: Value, _ b: Value) throws(JinjaError) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined): return true
        case (.undefined, _), (_, .undefined): return false
        case (.none, .none): return true
        case (.string(let x), .string(let y)): return x.utf8 == y.utf8
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            guard x.items.count == y.items.count else { return false }
            for (p, q) in zip(x.items, y.items) where !(try equals(p, q)) { return false }
            return true
        case (.dict(let x), .dict(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in zip(x.keys, x.values) {
                guard let w = try y.get(k), try equals(v, w) else { return false }
            }
            return true
        case (.object(let x), .object(let y)):
            if let r1 = x as? RangeObject, let r2 = y as? RangeObject {
                return r1.count == r2.count && (r1.count == 0 || (r1.start == r2.start && (r1.count == 1 || r1.step == r2.step)))
            }
            return x === y
        default:
            if let x = Interpreter.number(a), let y = Interpreter.number(b) {
                switch (x, y) {
                case let (.int(i), .int(j)): return i == j
                default: return Interpreter.asDouble(x) == Interpreter.asDouble(y)
                }
            }
            return false
        }
    }

    /// Python ordering for `<`, `<=`, `>`, `>=` (and `sort`): -1, 0 or 1.
    /// - Throws: `TypeError` for values Python cannot order.
    func order(_ a: Value, _ b: Value, _ op: String) throws(JinjaError) -> Int {
        if case .undefined(let u) = a { throw u.error }
        if case .undefined(let u) = b { throw u.error }
        if let x = Interpreter.number(a), let y = Interpreter.number(b) {
            switch (x, y) {
            case let (.int(i), .int(j)): return i < j ? -1 : (i > j ? 1 : 0)
            default:
                let p = Interpreter.asDouble(x), q = Interpreter.asDouble(y)
                if p.isNaN || q.isNaN { return op == "<" || op == "<=" ? 1 : -1 }
                return p < q ? -1 : (p > q ? 1 : 0)
            }
        }
        switch (a, b) {
        case (.string(let x), .string(let y)):
            return Interpreter.compareBytes(x.utf8, y.utf8)
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            for (p, q) in zip(x.items, y.items) where !(try equals(p, q)) {
                return try order(p, q, op)
            }
            return x.items.count < y.items.count ? -1 : (x.items.count > y.items.count ? 1 : 0)
        default:
            throw .typeError("'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
    }

    static func compareBytes(_ x: [UInt8], _ y: [UInt8]) -> Int {
        let n = min(x.count, y.count)
        var i = 0
        while i < n {
            if x[i] != y[i] { return x[i] < y[i] ? -1 : 1 }
            i += 1
        }
        return x.count < y.count ? -1 : (x.count > y.count ? 1 : 0)
    }

    /// Python `item in container`.
    func contains(_ container: Value, _ item: Value) throws(JinjaError) -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let needle) = item else {
                throw .typeError("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return s.find(needle.utf8) != nil
        case .list(let l), .tuple(let l):
            for x in l.items where try equals(x, item) { return true }
            return false
        case .dict(let d):
            return try d.contains(item)
        case .undefined:
            return false
        case .object(let o):
            if let r = o as? RangeObject {
                guard let n = Interpreter.number(item) else { return false }
                switch n {
                case .int(let i):
                    guard r.count > 0 else { return false }
                    let (off, overflow) = i.subtractingReportingOverflow(r.start)
                    if overflow || off % r.step != 0 { return false }
                    let k = off / r.step
                    return k >= 0 && k < r.count
                case .float(let d):
                    for x in 0..<r.count where Double(r.start + x * r.step) == d { return true }
                    return false
                }
            }
            if let v = o as? DictView, v.kind == .keys { return try v.dict.contains(item) }
            guard var it = try o.makeIterator(self) else {
                throw .typeError("argument of type '\(o.typeName)' is not iterable")
            }
            while let x = try it.next(self) {
                try budget.step()
                if try equals(x, item) { return true }
            }
            return false
        default:
            throw .typeError("argument of type '\(container.typeName)' is not iterable")
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

@inline(__always) func Foundation_pow(_ a: Double, _ b: Double) -> Double { pow(a, b) }

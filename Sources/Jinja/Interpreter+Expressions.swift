// Interpreter, expressions: `eval` and one function per kind of expression node (names,
// attribute and item access, operators, comparisons, calls, filters and tests, literals).

extension Interpreter {
    // MARK: Expressions

    /// Evaluates an expression (see `exec` on why every non-trivial case has a function of its own).
    func eval(_ e: Expression) throws(JinjaError) -> Value {
        try step(at: e.position)
        budget.evalDepth &+= 1
        defer { budget.evalDepth &-= 1 }
        switch e.tag {
        case .constant:
            return unsafeDowncast(e, to: ConstantExpr.self).value
        case .variable:
            let v = unsafeDowncast(e, to: VariableExpr.self)
            return load(v.ref, v.name)
        case .global:
            let g = unsafeDowncast(e, to: GlobalExpr.self)
            return names[g.index] ?? .undefined(Undefined(.name(g.name)))
        case .list, .tuple:
            return try evalList(unsafeDowncast(e, to: ItemsExpr.self))
        case .dict:
            return try evalDict(unsafeDowncast(e, to: DictExpr.self))
        case .conditional:
            return try evalConditional(unsafeDowncast(e, to: ConditionalExpr.self))
        case .binary:
            return try evalBinary(unsafeDowncast(e, to: BinaryExpr.self))
        case .addChain:
            return try evalAddChain(unsafeDowncast(e, to: AddChainExpr.self))
        case .and:
            let b = unsafeDowncast(e, to: BinaryExpr.self)
            let x = try eval(b.lhs)
            return x.isTruthy ? try eval(b.rhs) : x
        case .or:
            let b = unsafeDowncast(e, to: BinaryExpr.self)
            let x = try eval(b.lhs)
            return x.isTruthy ? x : try eval(b.rhs)
        case .not:
            return .bool(!(try truth(unsafeDowncast(e, to: UnaryExpr.self).operand)))
        case .negative, .positive:
            return try evalUnary(unsafeDowncast(e, to: UnaryExpr.self))
        case .concat:
            return try evalConcat(unsafeDowncast(e, to: ItemsExpr.self))
        case .compare:
            return try evalCompare(unsafeDowncast(e, to: CompareExpr.self))
        case .getattr:
            return try evalGetattr(unsafeDowncast(e, to: GetattrExpr.self))
        case .getitem:
            return try evalGetitem(unsafeDowncast(e, to: GetitemExpr.self))
        case .slice:
            return try evalSlice(unsafeDowncast(e, to: SliceExpr.self))
        case .call, .callMethod:
            return try evalCall(unsafeDowncast(e, to: CallExpr.self))
        case .filter:
            return try evalFilter(unsafeDowncast(e, to: FilterExpr.self))
        case .test:
            return try evalTest(unsafeDowncast(e, to: TestExpr.self))
        case .unknown:
            throw JinjaError.runtime(unsafeDowncast(e, to: UnknownExpr.self).message).at(e.pos)
        }
    }

    /// The truth of an expression where only its truth matters (`if`, `not`, `and`/`or` inside
    /// them, tests): the same as `eval(e).isTruthy`, without building what it is not needed — a
    /// missing dict key is false without materializing an Undefined, `is defined` does not
    /// build one either.
    func truth(_ e: Expression) throws(JinjaError) -> Bool {
        switch e.tag {
        case .and:
            let b = unsafeDowncast(e, to: BinaryExpr.self)
            if !(try truth(b.lhs)) { return false }
            return try truth(b.rhs)
        case .or:
            let b = unsafeDowncast(e, to: BinaryExpr.self)
            if try truth(b.lhs) { return true }
            return try truth(b.rhs)
        case .not:
            return !(try truth(unsafeDowncast(e, to: UnaryExpr.self).operand))
        case .getattr:
            return try present(unsafeDowncast(e, to: GetattrExpr.self))?.isTruthy ?? false
        case .test:
            let t = unsafeDowncast(e, to: TestExpr.self)
            if (t.test == .defined || t.test == .undefined) && t.args.isEmpty && t.operand.tag == .getattr {
                let there = try present(unsafeDowncast(t.operand, to: GetattrExpr.self)).map { !$0.isUndefined } ?? false
                return t.test == .defined ? there : !there
            }
            return try eval(e).isTruthy
        default:
            return try eval(e).isTruthy
        }
    }

    /// `obj.name` when the attribute is there; nil where `eval` would return an Undefined for a
    /// missing dict key (any other outcome, including errors, is exactly `eval`'s).
    func present(_ node: GetattrExpr) throws(JinjaError) -> Value? {
        try step(at: node.position)
        let o = try eval(node.object)
        let name = node.name
        if case .dict(let d) = o, !name.isPrivate, name.member?.dictMethodIsSafe == nil {
            return d.get(string: name.bytes)
        }
        do { return try getattr(o, name) } catch { throw error.at(node.pos) }
    }

    @inline(never)
    func evalList(_ node: ItemsExpr) throws(JinjaError) -> Value {
        var vs: [Value] = []
        vs.reserveCapacity(node.items.count)
        for i in node.items { vs.append(try eval(i)) }
        let l = try makeList(vs, node.pos)
        return node.tag == .tuple ? .tuple(l) : .list(l)
    }

    @inline(never)
    func evalDict(_ node: DictExpr) throws(JinjaError) -> Value {
        var ps: [(Value, Value)] = []
        ps.reserveCapacity(node.keys.count)
        for i in node.keys.indices { ps.append((try eval(node.keys[i]), try eval(node.values[i]))) }
        do throws(JinjaError) {
            let d = try PyDict(pairs: ps)
            if d.depth > budget.limits.maxNestingDepth { throw Budget.nestingError(budget.limits.maxNestingDepth) }
            return .dict(d)
        } catch { throw error.at(node.pos) }
    }

    @inline(never)
    func evalConditional(_ node: ConditionalExpr) throws(JinjaError) -> Value {
        if try truth(node.test) { return try eval(node.then) }
        if let orElse = node.orElse { return try eval(orElse) }
        return .undefined(Undefined(.hint(node.undefinedHint)))
    }

    @inline(never)
    func evalBinary(_ node: BinaryExpr) throws(JinjaError) -> Value {
        let x = try eval(node.lhs)
        let y = try eval(node.rhs)
        do { return try binary(node.op, x, y) } catch { throw error.at(node.pos) }
    }

    @inline(never)
    func evalAddChain(_ node: AddChainExpr) throws(JinjaError) -> Value {
        let items = node.items
        var acc = try eval(items[0])
        var builder = PyStringBuilder()
        var building = false
        for i in 1..<items.count {
            let rhs = try eval(items[i])
            if case .string(let r) = rhs, !r.isMarkup {
                if building {
                    builder.append(r)
                    do { try budget.appended(r.utf8.count, total: builder.count) } catch { throw error.at(node.positions[i - 1]) }
                    continue
                }
                if case .string(let l) = acc, !l.isMarkup {
                    builder = PyStringBuilder(capacity: l.utf8.count + r.utf8.count + 64)
                    builder.append(l)
                    builder.append(r)
                    building = true
                    do { try budget.appended(builder.count, total: builder.count) } catch { throw error.at(node.positions[i - 1]) }
                    continue
                }
            }
            if building {
                acc = .string(builder.finish())
                building = false
            }
            do { acc = try binary(.add, acc, rhs) } catch { throw error.at(node.positions[i - 1]) }
        }
        if building { acc = .string(builder.finish()) }
        return acc
    }

    @inline(never)
    func evalUnary(_ node: UnaryExpr) throws(JinjaError) -> Value {
        let x = try eval(node.operand)
        do { return node.tag == .negative ? try negate(x) : try positive(x) } catch { throw error.at(node.pos) }
    }

    @inline(never)
    func evalConcat(_ node: ItemsExpr) throws(JinjaError) -> Value {
        var b = PyStringBuilder()
        for i in node.items {
            let v = try eval(i)
            do { b.append(try PyFormat.str(v, self)) } catch { throw error.at(node.pos) }
        }
        do { try budget.string(b.count) } catch { throw error.at(node.pos) }
        return .string(b.finish())
    }

    @inline(never)
    func evalCompare(_ node: CompareExpr) throws(JinjaError) -> Value {
        var left = try eval(node.first)
        for i in node.operators.indices {
            let right = try eval(node.operands[i])
            let ok: Bool
            do { ok = try compare(node.operators[i], left, right) } catch { throw error.at(node.pos) }
            if !ok { return .bool(false) }
            left = right
        }
        return .bool(true)
    }

    @inline(never)
    func evalGetattr(_ node: GetattrExpr) throws(JinjaError) -> Value {
        let o = try eval(node.object)
        let name = node.name
        if case .dict(let d) = o, !name.isPrivate, name.member?.dictMethodIsSafe == nil, let v = d.get(string: name.bytes) {
            return v
        }
        do { return try getattr(o, name) } catch { throw error.at(node.pos) }
    }

    @inline(never)
    func evalGetitem(_ node: GetitemExpr) throws(JinjaError) -> Value {
        let o = try eval(node.object)
        if let key = node.constantKey, case .dict(let d) = o, let v = d.get(string: key.bytes) {
            return v
        }
        let k = try eval(node.key)
        if case .dict(let d) = o, case .string(let ks) = k, let v = d.get(string: ks.utf8) {
            return v
        }
        do { return try getitem(o, k) } catch { throw error.at(node.pos) }
    }

    @inline(never)
    func evalSlice(_ node: SliceExpr) throws(JinjaError) -> Value {
        let o = try eval(node.object)
        let a = try node.start.map { (x) throws(JinjaError) in try eval(x) }
        let b = try node.stop.map { (x) throws(JinjaError) in try eval(x) }
        let c = try node.step.map { (x) throws(JinjaError) in try eval(x) }
        do { return try slice(o, a, b, c) } catch { throw error.at(node.pos) }
    }

    @inline(never)
    func evalCall(_ node: CallExpr) throws(JinjaError) -> Value {
        let f = try eval(node.callee)
        let a = try evalArguments(node.args)
        if let name = node.name {
            do { return try callAttribute(f, name, a) } catch { throw error.at(node.pos) }
        }
        do { return try callValue(f, a) } catch { throw error.at(node.pos) }
    }

    @inline(never)
    func evalFilter(_ node: FilterExpr) throws(JinjaError) -> Value {
        let v = try eval(node.operand)
        let a = try evalArguments(node.args)
        do { return try applyFilter(node.filter, v, a) } catch { throw error.at(node.pos) }
    }

    @inline(never)
    func evalTest(_ node: TestExpr) throws(JinjaError) -> Value {
        let v = try eval(node.operand)
        let a = try evalArguments(node.args)
        do { return .bool(try applyTest(node.test, v, a)) } catch { throw error.at(node.pos) }
    }

    func makeList(_ items: [Value], _ pos: Int) throws(JinjaError) -> PyList {
        let l = PyList(items)
        if l.depth > budget.limits.maxNestingDepth { throw Budget.nestingError(budget.limits.maxNestingDepth).at(pos) }
        if items.count > budget.limits.maxContainerLength {
            throw Budget.containerError(items.count, budget.limits.maxContainerLength).at(pos)
        }
        return l
    }

    func evalArguments(_ c: CallCode) throws(JinjaError) -> Arguments {
        if c.isEmpty { return Arguments() }
        var a = Arguments()
        a.positional.reserveCapacity(c.positional.count)
        for p in c.positional { a.positional.append(try eval(p)) }
        for (k, v) in c.keywords { a.keywords.append((k, try eval(v))) }
        if let s = c.star {
            let v = try eval(s)
            var it = try iterate(v)
            while let x = try it.next(self) { a.positional.append(x) }
        }
        if let s = c.starStar {
            let v = try eval(s)
            guard case .dict(let d) = v else {
                throw .typeError("argument after ** must be a mapping, not \(v.typeName)")
            }
            for (k, x) in zip(d.keys, d.values) {
                guard case .string(let ks) = k else { throw .typeError("keywords must be strings") }
                a.keywords.append((ks.string, x))
            }
        }
        return a
    }

    /// Python's `iter(value)` (jinja2's Undefined iterates as empty).
    func iterate(_ v: Value) throws(JinjaError) -> ValueIterator {
        switch v {
        case .list(let l), .tuple(let l): return ValueIterator(.values(l.items))
        case .dict(let d): return ValueIterator(.values(d.keys))
        case .string(let s): return ValueIterator(.chars(s))
        case .undefined: return .empty
        case .object(let o):
            if let it = try o.makeIterator(self) { return it }
            throw .typeError("'\(o.typeName)' object is not iterable")
        default:
            throw .typeError("'\(v.typeName)' object is not iterable")
        }
    }

    /// All items of an iterable value as an array.
    func list(_ v: Value) throws(JinjaError) -> [Value] {
        switch v {
        case .list(let l), .tuple(let l): return l.items
        case .dict(let d): return d.keys
        default:
            var it = try iterate(v)
            return try it.collect(self)
        }
    }
}

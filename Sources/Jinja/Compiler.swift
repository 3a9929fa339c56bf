// Compiler: syntax tree → `Code`, following jinja2's code generator (`compiler.py`) decision by
// decision: which frames a construct opens, what `enter_frame`/`leave_frame` do, when a loop
// needs its `loop` object, which implicit macro parameters exist, and jinja2's compile-time
// errors (an unknown filter or test outside an `if`, assigning to `loop`, a `caller` parameter
// without a default, `break` outside a loop). Names become slots; filter and test names become
// enum cases; nothing is looked up by name while rendering.

struct Compiler {
    let templateName: String?
    let source: [UInt8]
    var names: [String] = []
    var nameIndex: [String: Int] = [:]
    var nextFunctionID = 0
    var usesGeneration = false

    init(templateName: String?, source: [UInt8]) {
        self.templateName = templateName
        self.source = source
    }

    /// Compile-time frame (jinja2's `Frame`).
    final class Frame {
        let symbols: Symbols
        var toplevel = false
        var softFrame = false
        /// Inside a loop body of the current function (`break`/`continue` allowed).
        var inLoop = false

        init(symbols: Symbols) { self.symbols = symbols }

        var function: FunctionScope { symbols.function }

        func inner(function: FunctionScope? = nil) -> Frame {
            Frame(symbols: Symbols(parent: symbols, function: function ?? symbols.function))
        }

        func soft() -> Frame {
            let f = Frame(symbols: symbols.copy())
            f.toplevel = toplevel
            f.softFrame = true
            f.inLoop = inLoop
            return f
        }
    }

    static func compile(_ body: [Stmt], source: [UInt8], name: String) throws(JinjaError) -> Program {
        var c = Compiler(templateName: nil, source: source)
        let activation = ActivationScope(parent: nil)
        let root = c.newFunction(parent: nil, activation: activation)
        let frame = Frame(symbols: Symbols(parent: nil, function: root))
        frame.symbols.analyze(body: body)
        frame.toplevel = true
        var code: [Instruction] = [FrameInstr(c.enterFrame(frame))]
        code.append(contentsOf: try c.compile(body, frame))
        return Program(name: name, source: source, body: code, slotCount: activation.count, names: c.names,
                       usesGeneration: c.usesGeneration)
    }

    mutating func newFunction(parent: FunctionScope?, activation: ActivationScope) -> FunctionScope {
        nextFunctionID += 1
        return FunctionScope(id: nextFunctionID, parent: parent, activation: activation)
    }

    mutating func nameID(_ name: String) -> Int {
        if let i = nameIndex[name] { return i }
        names.append(name)
        nameIndex[name] = names.count - 1
        return names.count - 1
    }

    /// The slot of `ref` owned by `owner`, seen from code running in `function`.
    func slotRef(_ ref: String, owner: FunctionScope, from function: FunctionScope) -> SlotRef {
        let slot = owner.activation.slot("\(owner.id)|\(ref)")
        var depth = 0
        var a: ActivationScope? = function.activation
        while let cur = a, cur !== owner.activation {
            depth += 1
            a = cur.parent
        }
        return SlotRef(depth: depth, slot: slot)
    }

    /// The local slot of a name the frame stores to.
    func localSlot(_ name: String, _ frame: Frame) -> Int {
        guard let (ref, owner) = frame.symbols.findRef(name) else {
            return frame.function.activation.slot("\(frame.function.id)|l_\(frame.symbols.level)_\(name)")
        }
        return slotRef(ref, owner: owner, from: frame.function).slot
    }

    /// jinja2's `enter_frame`.
    mutating func enterFrame(_ frame: Frame) -> [FrameInit] {
        var out: [FrameInit] = []
        let s = frame.symbols
        for ref in s.loadOrder {
            guard let load = s.loads[ref] else { continue }
            let slot = slotRef(ref, owner: s.function, from: s.function).slot
            switch load {
            case .param: break
            case .resolve(let name): out.append(.resolve(slot: slot, name: nameID(name)))
            case .alias(let outer, let owner): out.append(.alias(slot: slot, from: slotRef(outer, owner: owner, from: s.function)))
            case .undefined: out.append(.clear(slot: slot))
            }
        }
        return out
    }

    /// jinja2's `leave_frame` without a Python scope: every ref of the frame becomes unset.
    func leaveFrame(_ frame: Frame) -> [Int] {
        let s = frame.symbols
        return s.loadOrder.map { slotRef($0, owner: s.function, from: s.function).slot }
    }

    func lineOf(_ pos: Int) -> Int {
        var line = 1
        var i = 0
        let end = min(pos, source.count)
        while i < end {
            if source[i] == 10 { line += 1 }
            i += 1
        }
        return line
    }

    // MARK: Statements

    mutating func compile(_ body: [Stmt], _ frame: Frame) throws(JinjaError) -> [Instruction] {
        var out: [Instruction] = []
        for s in body { try compile(s, frame, into: &out) }
        return out
    }

    mutating func compile(_ s: Stmt, _ frame: Frame, into out: inout [Instruction]) throws(JinjaError) {
        switch s.kind {
        case .output(let items):
            for item in items {
                if case .data(let text) = item.kind {
                    if let prev = out.last as? TextInstr {
                        out[out.count - 1] = TextInstr(PyString(prev.text.utf8 + Array(text.utf8)))
                    } else {
                        out.append(TextInstr(PyString(text)))
                    }
                } else {
                    out.append(PrintInstr(try expr(item, frame), pos: item.pos))
                }
            }
        case .ifStmt(let node):
            let f = frame.soft()
            var tests: [Expression] = []
            var bodies: [[Instruction]] = []
            for (test, body) in node.branches {
                tests.append(try expr(test, f))
                bodies.append(try compile(body, f))
            }
            out.append(IfInstr(tests: tests, bodies: bodies, orElse: try compile(node.orElse, f)))
        case .forLoop(let node):
            out.append(try compileFor(node, frame, pos: s.pos))
        case .assign(let target, let value):
            let v = try expr(value, frame)
            out.append(AssignInstr(try compileTarget(target, frame), v, pos: s.pos))
        case .assignBlock(let target, let filter, let body):
            let blockFrame = frame.inner()
            blockFrame.symbols.analyze(body: body)
            let capture = try compileCapture(body: body, filter: filter, frame: blockFrame)
            out.append(CaptureInstr(try compileTarget(target, frame), capture, pos: s.pos))
        case .filterBlock(let filter, let body):
            let filterFrame = frame.inner()
            filterFrame.symbols.analyze(body: body)
            filterFrame.symbols.visit(filter)
            out.append(CaptureInstr(nil, try compileCapture(body: body, filter: filter, frame: filterFrame), pos: s.pos))
        case .with(let targets, let values, let body):
            let withFrame = frame.inner()
            for t in targets { withFrame.symbols.visit(t) }
            withFrame.symbols.analyze(body: body)
            let enter = enterFrame(withFrame)
            var targetCode: [Target] = []
            var valueCode: [Expression] = []
            for (t, v) in zip(targets, values) {
                targetCode.append(try compileTarget(t, withFrame))
                valueCode.append(try expr(v, frame))
            }
            withFrame.inLoop = frame.inLoop
            let code = try compile(body, withFrame)
            out.append(WithInstr(enter: enter, targets: targetCode, values: valueCode, body: code, leave: leaveFrame(withFrame)))
        case .macro(let name, let sig, let body):
            let code = try compileMacro(name: name, sig: sig, body: body, frame: frame, pos: s.pos)
            out.append(MacroInstr(slot: localSlot(name, frame), code))
        case .callBlock(let call, let sig, let body):
            let caller = try compileMacro(name: nil, sig: sig, body: body, frame: frame, pos: s.pos)
            guard let callCode = try expr(call, frame) as? CallExpr else { throw .syntax("expected call", at: s.pos) }
            out.append(CallBlockInstr(call: callCode, caller: caller, pos: s.pos))
        case .generation(let body):
            usesGeneration = true
            let code = try compileMacro(name: nil, sig: Signature(), body: body, frame: frame, pos: s.pos)
            out.append(CallBlockInstr(call: nil, caller: code, pos: s.pos))
        case .breakLoop, .continueLoop:
            guard frame.inLoop else {
                let word = { if case .breakLoop = s.kind { return "break" }; return "continue" }()
                throw .syntax("'\(word)' outside loop", at: s.pos)
            }
            if case .breakLoop = s.kind { out.append(Instruction.breakLoop) } else { out.append(Instruction.continueLoop) }
        }
    }

    /// A `set` block or `filter` block: enter the frame, render the body, apply the filter
    /// (reading the rendered text from a slot of its own), leave.
    mutating func compileCapture(body: [Stmt], filter: Expr?, frame: Frame) throws(JinjaError) -> CaptureCode {
        let enter = enterFrame(frame)
        let code = try compile(body, frame)
        let captureSlot = frame.function.activation.freshSlot()
        var filterCode: Expression? = nil
        if let filter {
            filterCode = try expr(filter, frame, captured: VariableExpr(SlotRef(depth: 0, slot: captureSlot), name: "<captured>"))
        }
        return CaptureCode(enter: enter, body: code, filter: filterCode, captureSlot: captureSlot, leave: leaveFrame(frame))
    }

    mutating func compileFor(_ node: ForNode, _ frame: Frame, pos: Int) throws(JinjaError) -> ForCode {
        // A recursive loop is a function of its own (jinja2: `def loop(reciter, ...)`).
        var loopFunction = frame.function
        if node.recursive {
            loopFunction = newFunction(parent: frame.function, activation: ActivationScope(parent: frame.function.activation))
        }
        let loopFrame = frame.inner(function: loopFunction)
        loopFrame.inLoop = true
        // jinja2 runs the `if` of `for x in xs if cond` in a generator of its own.
        let testFunction = newFunction(parent: frame.function, activation: frame.function.activation)
        let testFrame = frame.inner(function: testFunction)
        let elseFrame = frame.inner(function: loopFunction)
        elseFrame.inLoop = false

        let extended = node.recursive || UndeclaredNames.find(in: node.body, ["loop"]).contains("loop")
        var loopRef: String? = nil
        if extended { loopRef = loopFrame.symbols.declareParameter("loop") }
        loopFrame.symbols.visit(node.target, storeAsParam: true)
        loopFrame.symbols.analyze(body: node.body)
        if !node.orElse.isEmpty { elseFrame.symbols.analyze(body: node.orElse) }
        if let test = node.filter {
            testFrame.symbols.visit(node.target, storeAsParam: true)
            testFrame.symbols.visit(test)
        }
        if let bad = Compiler.storesTo("loop", [node.target]) ?? Compiler.storesTo("loop", in: node.body + node.orElse) {
            throw .assertion("Can't assign to special loop variable in for-loop target", at: bad)
        }

        var filter: (enter: [FrameInit], target: Target, test: Expression)? = nil
        if let test = node.filter {
            filter = (enterFrame(testFrame), try compileTarget(node.target, testFrame), try expr(test, testFrame))
        }
        let iterable = try expr(node.iterable, frame)
        let loopSlot = loopRef.map { slotRef($0, owner: loopFunction, from: loopFunction).slot }
        let target = try compileTarget(node.target, loopFrame)
        let enterBody = enterFrame(loopFrame)
        let body = try compile(node.body, loopFrame)
        let keepScope = node.recursive && node.orElse.isEmpty
        let leaveBody = keepScope ? [] : leaveFrame(loopFrame)
        var orElse: (enter: [FrameInit], body: [Instruction], leave: [Int])? = nil
        if !node.orElse.isEmpty {
            orElse = (enterFrame(elseFrame), try compile(node.orElse, elseFrame), leaveFrame(elseFrame))
        }
        return ForCode(target: target, iterable: iterable, filter: filter, loopSlot: loopSlot, enterBody: enterBody,
                       body: body, leaveBody: leaveBody, orElse: orElse, recursive: node.recursive,
                       slotCount: node.recursive ? loopFunction.activation.count : 0, pos: pos)
    }

    /// The position of a store to `name` in these targets/statements (jinja2's
    /// `find_all(Name)` check), or nil.
    static func storesTo(_ name: String, _ exprs: [Expr]) -> Int? {
        for e in exprs {
            if case .name(let n, let ctx) = e.kind, n == name, ctx == .store { return e.pos }
            if let p = storesTo(name, e.children) { return p }
        }
        return nil
    }

    static func storesTo(_ name: String, in body: [Stmt]) -> Int? {
        for s in body {
            switch s.kind {
            case .assign(let t, _), .assignBlock(let t, _, _):
                if let p = storesTo(name, [t]) { return p }
            case .forLoop(let f):
                if let p = storesTo(name, [f.target]) ?? storesTo(name, in: f.body + f.orElse) { return p }
            case .ifStmt(let node):
                for (_, b) in node.branches { if let p = storesTo(name, in: b) { return p } }
                if let p = storesTo(name, in: node.orElse) { return p }
            case .with(let targets, _, let b):
                // With targets are parameters, not stores.
                _ = targets
                if let p = storesTo(name, in: b) { return p }
            case .macro(_, _, let b), .callBlock(_, _, let b), .filterBlock(_, let b), .generation(let b):
                if let p = storesTo(name, in: b) { return p }
            default: break
            }
        }
        return nil
    }

    /// jinja2's `macro_body`: a macro, call-block caller or generation body as a function.
    mutating func compileMacro(name: String?, sig: Signature, body: [Stmt], frame: Frame, pos: Int) throws(JinjaError) -> MacroCode {
        let activation = ActivationScope(parent: frame.function.activation)
        let function = newFunction(parent: frame.function, activation: activation)
        let macroFrame = frame.inner(function: function)
        for p in sig.params { macroFrame.symbols.declareParameter(p) }
        for d in sig.defaults { macroFrame.symbols.visit(d) }
        macroFrame.symbols.analyze(body: body)

        let undeclared = UndeclaredNames.find(in: body, ["caller", "kwargs", "varargs"])
        var callerSlot: Int? = nil, kwargsSlot: Int? = nil, varargsSlot: Int? = nil
        let explicitCaller = sig.params.firstIndex(of: "caller")
        if undeclared.contains("caller") {
            if let idx = explicitCaller {
                let defaultIndex = idx - (sig.params.count - sig.defaults.count)
                if defaultIndex < 0 {
                    throw .assertion("When defining macros or call blocks the special \"caller\" argument must be omitted or be given a default.", at: pos)
                }
            } else {
                callerSlot = refSlot(macroFrame.symbols.declareParameter("caller"), macroFrame)
            }
        }
        if undeclared.contains("kwargs") && !sig.params.contains("kwargs") {
            kwargsSlot = refSlot(macroFrame.symbols.declareParameter("kwargs"), macroFrame)
        }
        if undeclared.contains("varargs") && !sig.params.contains("varargs") {
            varargsSlot = refSlot(macroFrame.symbols.declareParameter("varargs"), macroFrame)
        }
        let paramSlots = sig.params.map { localSlot($0, macroFrame) }
        let enter = enterFrame(macroFrame)
        var defaults: [Expression] = []
        for d in sig.defaults { defaults.append(try expr(d, macroFrame)) }
        let code = try compile(body, macroFrame)
        return MacroCode(name: name, params: sig.params, paramSlots: paramSlots, defaults: defaults,
                         callerSlot: callerSlot, kwargsSlot: kwargsSlot, varargsSlot: varargsSlot,
                         explicitCaller: explicitCaller != nil, slotCount: activation.count, enter: enter, body: code)
    }

    /// The slot of a ref just declared in `frame`.
    func refSlot(_ ref: String, _ frame: Frame) -> Int {
        slotRef(ref, owner: frame.function, from: frame.function).slot
    }

    mutating func compileTarget(_ t: Expr, _ frame: Frame) throws(JinjaError) -> Target {
        switch t.kind {
        case .name(let n, _):
            return .slot(localSlot(n, frame))
        case .namespaceRef(let n, let attr):
            guard let (ref, owner) = frame.symbols.findRef(n) else {
                throw .syntax("cannot assign attribute on non-namespace object", at: t.pos)
            }
            return .namespace(slotRef(ref, owner: owner, from: frame.function), name: n, attr: attr, pos: t.pos)
        case .tuple(let items, _):
            var out: [Target] = []
            for i in items { out.append(try compileTarget(i, frame)) }
            return .tuple(out, pos: t.pos)
        default:
            throw .syntax("can't assign to this expression", at: t.pos)
        }
    }

    // MARK: Expressions

    mutating func args(_ a: CallArguments, _ frame: Frame) throws(JinjaError) -> CallCode {
        var c = CallCode()
        for p in a.positional { c.positional.append(try expr(p, frame)) }
        for (k, v) in a.keywords { c.keywords.append((k, try expr(v, frame))) }
        if let s = a.star { c.star = try expr(s, frame) }
        if let s = a.starStar { c.starStar = try expr(s, frame) }
        return c
    }

    /// `captured`: the value of the innermost filter of a `{% filter %}`/`{% set | f %}` chain.
    mutating func expr(_ e: Expr, _ frame: Frame, captured: Expression? = nil) throws(JinjaError) -> Expression {
        switch e.kind {
        case .data(let text):
            return ConstantExpr(.str(text))
        case .name(let n, _):
            if let (ref, owner) = frame.symbols.findRef(n) {
                return VariableExpr(slotRef(ref, owner: owner, from: frame.function), name: n)
            }
            return GlobalExpr(index: nameID(n), name: n)
        case .namespaceRef(let n, let attr):
            return GetattrExpr(try expr(Expr(.name(n, .load), e.pos, depth: 1), frame), Name(attr), pos: e.pos)
        case .constant(let c):
            switch c {
            case .none: return ConstantExpr(.none)
            case .bool(let b): return ConstantExpr(.bool(b))
            case .int(let i): return ConstantExpr(.int(i))
            case .float(let d): return ConstantExpr(.float(d))
            case .string(let s): return ConstantExpr(.str(s))
            }
        case .tuple(let items, _):
            var out: [Expression] = []
            for i in items { out.append(try expr(i, frame)) }
            return ItemsExpr(.tuple, out, pos: e.pos)
        case .list(let items):
            var out: [Expression] = []
            for i in items { out.append(try expr(i, frame)) }
            return ItemsExpr(.list, out, pos: e.pos)
        case .dict(let pairs):
            var keys: [Expression] = [], values: [Expression] = []
            for (k, v) in pairs {
                keys.append(try expr(k, frame))
                values.append(try expr(v, frame))
            }
            return DictExpr(keys: keys, values: values, pos: e.pos)
        case .conditional(let test, let then, let orElse):
            let f = frame.soft()
            let position = "line \(lineOf(e.pos))" + (templateName.map { " in \(PyRepr.string($0))" } ?? "")
            return ConditionalExpr(test: try expr(test, f), then: try expr(then, f), orElse: try orElse.map { (x) throws(JinjaError) in try expr(x, f) },
                                   undefinedHint: "the inline if-expression on \(position) evaluated to false and no else section was defined.")
        case .binary(let op, let a, let b):
            if op == .add, case .binary(.add, _, _) = a.kind {
                // Flatten a left-nested chain of `+`.
                var operands: [Expr] = [b]
                var positions: [Int] = [e.pos]
                var left = a
                while case .binary(.add, let x, let y) = left.kind {
                    operands.append(y)
                    positions.append(left.pos)
                    left = x
                }
                operands.append(left)
                var code: [Expression] = []
                for o in operands.reversed() { code.append(try expr(o, frame)) }
                return AddChainExpr(code, positions: positions.reversed())
            }
            return BinaryExpr(.binary, op, try expr(a, frame), try expr(b, frame), pos: e.pos)
        case .and(let a, let b):
            let x = try expr(a, frame)
            return BinaryExpr(.and, .add, x, try expr(b, frame), pos: x.position)
        case .or(let a, let b):
            let x = try expr(a, frame)
            return BinaryExpr(.or, .add, x, try expr(b, frame), pos: x.position)
        case .not(let a):
            let x = try expr(a, frame)
            return UnaryExpr(.not, x, pos: x.position)
        case .negative(let a):
            return UnaryExpr(.negative, try expr(a, frame), pos: e.pos)
        case .positive(let a):
            return UnaryExpr(.positive, try expr(a, frame), pos: e.pos)
        case .concat(let items):
            var out: [Expression] = []
            for i in items { out.append(try expr(i, frame)) }
            return ItemsExpr(.concat, out, pos: e.pos)
        case .compare(let first, let ops):
            var out: [(CompareOperator, Expression)] = []
            for (op, x) in ops { out.append((op, try expr(x, frame))) }
            return CompareExpr(try expr(first, frame), out, pos: e.pos)
        case .getattr(let obj, let name):
            return GetattrExpr(try expr(obj, frame), Name(name), pos: e.pos)
        case .getitem(let obj, let key):
            if case .slice(let a, let b, let c) = key.kind {
                return SliceExpr(try expr(obj, frame), try a.map { (x) throws(JinjaError) in try expr(x, frame) },
                                 try b.map { (x) throws(JinjaError) in try expr(x, frame) },
                                 try c.map { (x) throws(JinjaError) in try expr(x, frame) }, pos: e.pos)
            }
            return GetitemExpr(try expr(obj, frame), try expr(key, frame), pos: e.pos)
        case .slice:
            throw .syntax("a slice is only allowed inside [ ]", at: e.pos)
        case .call(let callee, let a):
            let callArgs = try args(a, frame)
            if case .getattr(let obj, let name) = callee.kind {
                return CallExpr(try expr(obj, frame), method: Name(name), callArgs, pos: e.pos)
            }
            return CallExpr(try expr(callee, frame), method: nil, callArgs, pos: e.pos)
        case .filter(let value, let name, let a):
            let operand: Expression
            if let value {
                operand = try expr(value, frame, captured: captured)
            } else if let captured {
                operand = captured
            } else {
                throw .syntax("a filter without a value", at: e.pos)
            }
            guard let f = Filter(rawValue: name) else {
                if frame.softFrame { return UnknownExpr(message: "No filter named \(PyRepr.string(name)) found.", pos: e.pos) }
                throw .assertion("No filter named \(PyRepr.string(name)).", at: e.pos)
            }
            return FilterExpr(f, operand, try args(a, frame), pos: e.pos)
        case .test(let value, let name, let a):
            guard let t = Test(name: name) else {
                if frame.softFrame { return UnknownExpr(message: "No test named \(PyRepr.string(name)) found.", pos: e.pos) }
                throw .assertion("No test named \(PyRepr.string(name)).", at: e.pos)
            }
            return TestExpr(t, try expr(value, frame), try args(a, frame), pos: e.pos)
        }
    }
}

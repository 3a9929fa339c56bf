// Interpreter: runs a compiled `Program` against a render's variables.
//
// The node set it evaluates (`Code.swift`; one final class per shape, a tag per construct):
//   Instruction: text, print, ifChain, forLoop, assign, assignBlock, filterBlock, with, macro,
//                callBlock, generation, breakLoop, continueLoop, frame
//   Expression:  constant, variable, global, list, tuple, dict, conditional, binary, addChain,
//                and, or, not, negative, positive, concat, compare, getattr, getitem, slice,
//                call, callMethod, filter, test, unknown
//
// A tree-walking evaluator: `exec` runs instructions and returns how control leaves them
// (normally, `break`, `continue`); `eval` computes a `Value`. Variables are slots of the current
// activation (or of an enclosing one, `SlotRef.depth` up). Output goes to a byte buffer with the
// data ranges beside it; macros and `set` blocks render into a buffer of their own (a stack).
// Every instruction and expression costs a step and a level of recursion (`Budget`), so an
// endless or too-deep template stops with a limit error.
//
// Cost per node: a switch, no allocation except where Python allocates (new strings, lists);
// names are never looked up by text.

/// Variables of one function call (jinja2: a Python frame's locals). `nil` is jinja2's `missing`.
final class Activation {
    let slots: UnsafeMutablePointer<Value?>
    let count: Int
    let parent: Activation?

    init(count: Int, parent: Activation?) {
        self.count = count
        self.parent = parent
        slots = UnsafeMutablePointer<Value?>.allocate(capacity: max(count, 1))
        slots.initialize(repeating: nil, count: max(count, 1))
    }

    deinit {
        slots.deinitialize(count: max(count, 1))
        slots.deallocate()
    }

    /// Releases every value (breaks reference cycles through macros and namespaces).
    func clear() {
        for i in 0..<count { slots[i] = nil }
    }

    @inline(__always)
    func up(_ depth: Int) -> Activation {
        var a = self
        var d = depth
        while d > 0, let p = a.parent {
            a = p
            d -= 1
        }
        return a
    }
}

/// How control leaves a block.
enum Flow {
    case normal, breakLoop, continueLoop
}

/// The text being rendered (the output, or a macro's or `set` block's capture).
struct OutputBuffer {
    var bytes: [UInt8] = []
    var provenance = ProvenanceBuilder()
    let limit: Int
    let isRoot: Bool

    init(limit: Int, isRoot: Bool, capacity: Int = 0) {
        self.limit = limit
        self.isRoot = isRoot
        if capacity > 0 { bytes.reserveCapacity(capacity) }
    }
}

final class Interpreter {
    let program: Program
    // The state every step touches lives behind pointers: a class's stored `var` would pay a
    // dynamic exclusivity check on each access.
    private let budgetStorage: UnsafeMutablePointer<Budget>
    private let actStorage: UnsafeMutablePointer<Activation>
    private let outStorage: UnsafeMutablePointer<OutputBuffer>

    var budget: Budget {
        @inline(__always) unsafeAddress { UnsafePointer(budgetStorage) }
        @inline(__always) unsafeMutableAddress { budgetStorage }
    }
    /// The current activation (the running function's variables).
    var act: Activation {
        @inline(__always) unsafeAddress { UnsafePointer(actStorage) }
        @inline(__always) unsafeMutableAddress { actStorage }
    }
    /// The text being rendered into.
    var out: OutputBuffer {
        @inline(__always) unsafeAddress { UnsafePointer(outStorage) }
        @inline(__always) unsafeMutableAddress { outStorage }
    }
    /// Values of `program.names`, from the render's variables and the globals (nil = missing).
    let names: [Value?]
    var saved: [OutputBuffer] = []
    let clock: JinjaClock
    /// `{% generation %}` spans in characters of the output (as transformers records them).
    var generationSpans: [(Int, Int)] = []
    /// Objects that can be part of reference cycles, released when the render ends.
    var arena: [Activation] = []
    var namespaces: [Namespace] = []
    /// Characters counted so far in the root output (for generation spans).
    var countedBytes = 0
    var countedChars = 0

    init(program: Program, variables: [String: Value], limits: JinjaLimits, clock: JinjaClock) {
        self.program = program
        self.clock = clock
        budgetStorage = .allocate(capacity: 1)
        budgetStorage.initialize(to: Budget(limits))
        let root = Activation(count: program.slotCount, parent: nil)
        actStorage = .allocate(capacity: 1)
        actStorage.initialize(to: root)
        outStorage = .allocate(capacity: 1)
        outStorage.initialize(to: OutputBuffer(limit: limits.maxOutputBytes, isRoot: true, capacity: 4096))
        var ns: [Value?] = []
        ns.reserveCapacity(program.names.count)
        for n in program.names {
            ns.append(variables[n] ?? Builtins.global(n))
        }
        self.names = ns
        arena.append(root)
    }

    deinit {
        budgetStorage.deinitialize(count: 1)
        budgetStorage.deallocate()
        actStorage.deinitialize(count: 1)
        actStorage.deallocate()
        outStorage.deinitialize(count: 1)
        outStorage.deallocate()
    }

    /// Renders the template; the output bytes and their data ranges.
    func run() throws(JinjaError) -> (bytes: [UInt8], data: [Range<Int>]) {
        defer { releaseCycles() }
        _ = try exec(program.body)
        return (out.bytes, out.provenance.ranges)
    }

    func releaseCycles() {
        for a in arena { a.clear() }
        for n in namespaces {
            n.names.removeAll()
            n.values.removeAll()
        }
        arena.removeAll()
        namespaces.removeAll()
    }

    // MARK: Output

    @inline(__always)
    func write(_ s: PyString) throws(JinjaError) {
        if !s.provenance.hasData {
            out.bytes.append(contentsOf: s.utf8)
        } else {
            out.provenance.add(s.provenance, at: out.bytes.count, length: s.utf8.count)
            out.bytes.append(contentsOf: s.utf8)
        }
        if out.bytes.count > out.limit {
            throw out.isRoot ? Budget.outputError(out.limit) : Budget.stringError(out.bytes.count, out.limit)
        }
    }

    /// Python `str(value)` written to the output.
    func writeValue(_ v: Value) throws(JinjaError) {
        switch v {
        case .string(let s): try write(s)
        case .undefined: return
        default: try write(try PyFormat.str(v, self))
        }
    }

    func beginCapture() {
        saved.append(out)
        out = OutputBuffer(limit: budget.limits.maxStringBytes, isRoot: false)
    }

    func endCapture() -> PyString {
        let captured = PyString(out.bytes, out.provenance.finish(length: out.bytes.count))
        out = saved.removeLast()
        return captured
    }

    /// The number of characters rendered to the output so far (transformers'
    /// `len("".join(rendered_blocks))`).
    func rootCharacterCount() -> Int {
        let root = saved.first ?? out
        if countedBytes > root.bytes.count {
            countedBytes = 0
            countedChars = 0
        }
        countedChars += PyUnicode.scalarCount(root.bytes, countedBytes, root.bytes.count)
        countedBytes = root.bytes.count
        return countedChars
    }

    // MARK: Variables

    @inline(__always)
    func load(_ ref: SlotRef, _ name: String) -> Value {
        let a = ref.depth == 0 ? act : act.up(ref.depth)
        if let v = a.slots[ref.slot] { return v }
        return .undefined(Undefined(.name(name)))
    }

    func runInits(_ inits: [FrameInit]) {
        for i in inits {
            switch i {
            case .resolve(let slot, let name): act.slots[slot] = names[name]
            case .alias(let slot, let from): act.slots[slot] = (from.depth == 0 ? act : act.up(from.depth)).slots[from.slot]
            case .clear(let slot): act.slots[slot] = nil
            }
        }
    }

    @inline(__always)
    func clear(_ slots: [Int]) {
        for s in slots { act.slots[s] = nil }
    }

    func assign(_ t: Target, _ v: Value) throws(JinjaError) {
        switch t {
        case .slot(let s):
            act.slots[s] = v
        case .namespace(let ref, let name, let attr, let pos):
            let target = load(ref, name)
            guard case .object(let o) = target, let ns = o as? Namespace else {
                throw JinjaError.runtime("cannot assign attribute on non-namespace object").at(pos)
            }
            do { try ns.set(attr, v) } catch { throw error.at(pos) }
        case .tuple(let targets, let pos):
            let items: [Value]
            do { items = try unpack(v, targets.count) } catch { throw error.at(pos) }
            for (t, x) in zip(targets, items) { try assign(t, x) }
        }
    }

    /// Python's `a, b = value`.
    func unpack(_ v: Value, _ n: Int) throws(JinjaError) -> [Value] {
        if case .undefined(let u) = v { _ = u }
        var it: ValueIterator
        do {
            it = try iterate(v)
        } catch {
            throw .typeError("cannot unpack non-iterable \(v.typeName) object")
        }
        var items: [Value] = []
        while let x = try it.next(self) {
            items.append(x)
            if items.count > n { throw .valueError("too many values to unpack (expected \(n))") }
        }
        if items.count < n { throw .valueError("not enough values to unpack (expected \(n), got \(items.count))") }
        return items
    }

    // MARK: Instructions

    func exec(_ code: [Instruction]) throws(JinjaError) -> Flow {
        for ins in code {
            let f: Flow
            do { f = try exec(ins) } catch { throw error.at(ins.position) }
            if case .normal = f { continue }
            return f
        }
        return .normal
    }

    /// Runs one instruction. The recursion path (statement → expression → macro → statement)
    /// goes through small frames: every non-trivial case is a function of its own, so a deep
    /// template needs little stack (see `JinjaLimits.maxEvalDepth`).
    func exec(_ ins: Instruction) throws(JinjaError) -> Flow {
        if budget.steps >= budget.limits.maxSteps || budget.evalDepth >= budget.limits.maxEvalDepth {
            throw budgetError(at: ins.position)
        }
        budget.steps &+= 1
        budget.evalDepth &+= 1
        defer { budget.evalDepth &-= 1 }
        switch ins.tag {
        case .text:
            try write(unsafeDowncast(ins, to: TextInstr.self).text)
        case .print:
            try execPrint(unsafeDowncast(ins, to: PrintInstr.self))
        case .ifChain:
            return try execIf(unsafeDowncast(ins, to: IfInstr.self))
        case .forLoop:
            try execFor(unsafeDowncast(ins, to: ForCode.self))
        case .assign:
            try execAssign(unsafeDowncast(ins, to: AssignInstr.self))
        case .assignBlock, .filterBlock:
            try execCapture(unsafeDowncast(ins, to: CaptureInstr.self))
        case .with:
            return try execWith(unsafeDowncast(ins, to: WithInstr.self))
        case .macro:
            execMacro(unsafeDowncast(ins, to: MacroInstr.self))
        case .callBlock:
            try execCallBlock(unsafeDowncast(ins, to: CallBlockInstr.self))
        case .generation:
            try execGeneration(unsafeDowncast(ins, to: CallBlockInstr.self))
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .frame:
            runInits(unsafeDowncast(ins, to: FrameInstr.self).inits)
        }
        return .normal
    }

    @inline(never)
    func budgetError(at pos: Int) -> JinjaError {
        if budget.steps >= budget.limits.maxSteps { return Budget.stepError(budget.limits.maxSteps).at(pos) }
        return Budget.depthError(budget.limits.maxEvalDepth).at(pos)
    }

    @inline(never)
    func execPrint(_ p: PrintInstr) throws(JinjaError) {
        if p.expr.tag == .addChain {
            return try printAddChain(unsafeDowncast(p.expr, to: AddChainExpr.self), p.pos)
        }
        let v = try eval(p.expr)
        if case .string(let s) = v {
            do { try write(s) } catch { throw error.at(p.pos) }
            return
        }
        do { try writeValue(v) } catch { throw error.at(p.pos) }
    }

    /// `{{ a + b + c }}`: while every operand is a plain string, the parts go straight to the
    /// output; if one is not (a number, Markup, ...), what was written is taken back and the
    /// chain continues as `+` would, left to right, with the same errors.
    func printAddChain(_ node: AddChainExpr, _ pos: Int) throws(JinjaError) {
        if budget.steps >= budget.limits.maxSteps || budget.evalDepth >= budget.limits.maxEvalDepth {
            throw budgetError(at: node.position)
        }
        budget.steps &+= 1
        let mark = out.bytes.count
        let items = node.items
        for i in 0..<items.count {
            let v = try eval(items[i])
            if case .string(let s) = v, !s.isMarkup {
                do { try write(s) } catch { throw error.at(pos) }
                continue
            }
            var acc = v
            if i > 0 {
                acc = .string(takeOutput(from: mark))
                do { acc = try binary(.add, acc, v) } catch { throw error.at(node.positions[i - 1]) }
            }
            for j in (i + 1)..<items.count {
                let rhs = try eval(items[j])
                do { acc = try binary(.add, acc, rhs) } catch { throw error.at(node.positions[j - 1]) }
            }
            do { try writeValue(acc) } catch { throw error.at(pos) }
            return
        }
    }

    /// Removes the output written since byte `mark` and returns it as a string.
    func takeOutput(from mark: Int) -> PyString {
        let bytes = Array(out.bytes[mark...])
        let provenance = out.provenance.provenance(from: mark, length: bytes.count)
        out.bytes.removeSubrange(mark...)
        out.provenance.truncate(to: mark)
        return PyString(bytes, provenance)
    }

    @inline(never)
    func execIf(_ node: IfInstr) throws(JinjaError) -> Flow {
        for i in node.tests.indices {
            if try truth(node.tests[i]) { return try exec(node.bodies[i]) }
        }
        return try exec(node.orElse)
    }

    @inline(never)
    func execFor(_ f: ForCode) throws(JinjaError) {
        let iterable = try eval(f.iterable)
        if f.recursive {
            let s = try runRecursiveLoop(f, iterable, depth0: 0, parent: act)
            try write(s)
        } else {
            try runLoop(f, iterable, depth0: 0, recurse: nil)
        }
    }

    @inline(never)
    func execAssign(_ node: AssignInstr) throws(JinjaError) {
        let v = try eval(node.value)
        do { try assign(node.target, v) } catch { throw error.at(node.pos) }
    }

    @inline(never)
    func execCapture(_ node: CaptureInstr) throws(JinjaError) {
        let v = try runCapture(node.capture)
        if let target = node.target {
            do { try assign(target, v) } catch { throw error.at(node.pos) }
        } else {
            do { try writeValue(v) } catch { throw error.at(node.pos) }
        }
    }

    @inline(never)
    func execWith(_ node: WithInstr) throws(JinjaError) -> Flow {
        runInits(node.enter)
        for i in node.targets.indices { try assign(node.targets[i], try eval(node.values[i])) }
        let f = try exec(node.body)
        clear(node.leave)
        return f
    }

    @inline(never)
    func execMacro(_ node: MacroInstr) {
        keepForRelease(act)
        act.slots[node.slot] = .object(MacroObject(node.code, closure: act))
    }

    @inline(never)
    func execCallBlock(_ node: CallBlockInstr) throws(JinjaError) {
        guard let call = node.call else { return }
        keepForRelease(act)
        let caller = Value.object(MacroObject(node.caller, closure: act))
        let v: Value
        if let name = call.name {
            let o = try eval(call.callee)
            var a = try evalArguments(call.args)
            a.keywords.append(("caller", caller))
            do { v = try callAttribute(o, name, a) } catch { throw error.at(call.pos) }
        } else {
            let f = try eval(call.callee)
            var a = try evalArguments(call.args)
            a.keywords.append(("caller", caller))
            do { v = try callValue(f, a) } catch { throw error.at(call.pos) }
        }
        do { try writeValue(v) } catch { throw error.at(node.pos) }
    }

    @inline(never)
    func execGeneration(_ node: CallBlockInstr) throws(JinjaError) {
        keepForRelease(act)
        let rv: Value
        do { rv = try callMacro(MacroObject(node.caller, closure: act), Arguments()) } catch { throw error.at(node.pos) }
        if case .string(let s) = rv {
            let start = rootCharacterCount()
            generationSpans.append((start, start + s.count))
            try write(s)
        }
    }

    func keepForRelease(_ a: Activation) {
        if a !== arena.last && !arena.contains(where: { $0 === a }) { arena.append(a) }
    }

    /// A `set` block or `filter` block: the rendered body, filtered.
    func runCapture(_ c: CaptureCode) throws(JinjaError) -> Value {
        runInits(c.enter)
        beginCapture()
        _ = try exec(c.body)
        let text = Value.string(endCapture())
        var result = text
        if let f = c.filter {
            act.slots[c.captureSlot] = text
            result = try eval(f)
            act.slots[c.captureSlot] = nil
        }
        clear(c.leave)
        return result
    }

    // MARK: Loops

    /// A `for` loop (jinja2's `for target, loop in LoopContext(iterable)` with the else branch's
    /// quirk: it runs unless some iteration reached the end of the body).
    func runLoop(_ f: ForCode, _ iterable: Value, depth0: Int, recurse: (code: ForCode, parent: Activation)?) throws(JinjaError) {
        var it: ValueIterator
        do { it = try iterate(iterable) } catch { throw error.at(f.pos) }
        if let filter = f.filter {
            it = try filteredIterator(it, filter, outer: recurse?.parent)
        }
        var noIteration = true
        if let loopSlot = f.loopSlot {
            let loop = LoopContext(iterator: it, depth0: depth0, recurse: recurse)
            let loopValue = Value.object(loop)
            while let item = try loop.advance(self) {
                try budget.step()
                try assign(f.target, item)
                act.slots[loopSlot] = loopValue
                runInits(f.enterBody)
                let flow = try exec(f.body)
                if case .breakLoop = flow { break }
                if case .continueLoop = flow { continue }
                noIteration = false
            }
        } else {
            while let item = try it.next(self) {
                try budget.step()
                try assign(f.target, item)
                runInits(f.enterBody)
                let flow = try exec(f.body)
                if case .breakLoop = flow { break }
                if case .continueLoop = flow { continue }
                noIteration = false
            }
        }
        clear(f.leaveBody)
        if let orElse = f.orElse, noIteration {
            runInits(orElse.enter)
            _ = try exec(orElse.body)
            clear(orElse.leave)
        }
    }

    /// `for x in xs if test`: the items that pass, lazily (jinja2 uses a generator).
    func filteredIterator(_ source: ValueIterator, _ filter: (enter: [FrameInit], target: Target, test: Expression),
                          outer: Activation?) throws(JinjaError) -> ValueIterator {
        var src = source
        var started = false
        let filterActivation = outer ?? act
        let gen = PyGenerator("fiter") { (interp) throws(JinjaError) -> Value? in
            let saved = interp.act
            interp.act = filterActivation
            defer { interp.act = saved }
            if !started {
                started = true
                interp.runInits(filter.enter)
            }
            while let item = try src.next(interp) {
                try interp.budget.step()
                try interp.assign(filter.target, item)
                if try interp.truth(filter.test) { return item }
            }
            return nil
        }
        return ValueIterator(.generator(gen))
    }

    /// Runs a recursive loop over `iterable` in a new activation; the rendered text.
    func runRecursiveLoop(_ f: ForCode, _ iterable: Value, depth0: Int, parent: Activation) throws(JinjaError) -> PyString {
        budget.callDepth += 1
        defer { budget.callDepth -= 1 }
        if budget.callDepth > budget.limits.maxCallDepth { throw Budget.callDepthError(budget.limits.maxCallDepth) }
        let saved = act
        act = Activation(count: f.slotCount, parent: parent)
        keepForRelease(act)
        defer { act = saved }
        beginCapture()
        try runLoop(f, iterable, depth0: depth0, recurse: (f, parent))
        return endCapture()
    }

    // MARK: Macros

    /// jinja2's `Macro.__call__` and the macro function's prologue.
    func callMacro(_ m: MacroObject, _ args: Arguments) throws(JinjaError) -> Value {
        let code = m.code
        let count = code.params.count
        var kwargs = args.keywords
        var values: [Value?] = []
        values.reserveCapacity(count + 3)
        for i in 0..<min(count, args.positional.count) { values.append(args.positional[i]) }
        func popKeyword(_ name: String) -> Value? {
            if let i = kwargs.firstIndex(where: { $0.0 == name }) { return kwargs.remove(at: i).1 }
            return nil
        }
        var foundCaller = false
        if values.count != count {
            for name in code.params[values.count...] {
                values.append(popKeyword(name))
                if name == "caller" { foundCaller = true }
            }
        } else {
            foundCaller = code.explicitCaller
        }
        var callerValue: Value? = nil
        if code.callerSlot != nil && !foundCaller {
            callerValue = popKeyword("caller") ?? .undefined(Undefined(.hint("No caller defined")))
        }
        let macroName = code.name.map { PyRepr.string($0) } ?? "None"
        var kwargsValue: Value? = nil
        if code.kwargsSlot != nil {
            var ks: [Value] = [], vs: [Value] = []
            for (k, v) in kwargs { ks.append(.str(k)); vs.append(v) }
            kwargsValue = .dict(PyDict(uniqueKeys: ks, values: vs))
        } else if let first = kwargs.first {
            if kwargs.contains(where: { $0.0 == "caller" }) {
                throw .typeError("macro \(macroName) was invoked with two values for the special caller argument. This is most likely a bug.")
            }
            throw .typeError("macro \(macroName) takes no keyword argument \(PyRepr.string(first.0))")
        }
        var varargsValue: Value? = nil
        if code.varargsSlot != nil {
            varargsValue = .tuple(PyList(args.positional.count > count ? Array(args.positional[count...]) : []))
        } else if args.positional.count > count {
            throw .typeError("macro \(macroName) takes not more than \(count) argument(s)")
        }

        budget.callDepth += 1
        defer { budget.callDepth -= 1 }
        if budget.callDepth > budget.limits.maxCallDepth { throw Budget.callDepthError(budget.limits.maxCallDepth) }

        let frame = Activation(count: code.slotCount, parent: m.closure)
        for (i, slot) in code.paramSlots.enumerated() { frame.slots[slot] = values[i] }
        if let s = code.callerSlot { frame.slots[s] = callerValue }
        if let s = code.kwargsSlot { frame.slots[s] = kwargsValue }
        if let s = code.varargsSlot { frame.slots[s] = varargsValue }

        let saved = act
        act = frame
        defer { act = saved }
        runInits(code.enter)
        let firstDefault = count - code.defaults.count
        for (i, slot) in code.paramSlots.enumerated() where frame.slots[slot] == nil {
            if i >= firstDefault {
                frame.slots[slot] = try eval(code.defaults[i - firstDefault])
            } else {
                frame.slots[slot] = .undefined(Undefined(.hint("parameter \(PyRepr.string(code.params[i])) was not provided")))
            }
        }
        beginCapture()
        _ = try exec(code.body)
        return .string(endCapture())
    }

    // MARK: Expressions

    /// Evaluates an expression (see `exec` on why every non-trivial case has a function of its own).
    func eval(_ e: Expression) throws(JinjaError) -> Value {
        if budget.steps >= budget.limits.maxSteps || budget.evalDepth >= budget.limits.maxEvalDepth {
            throw budgetError(at: e.position)
        }
        budget.steps &+= 1
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
        if budget.steps >= budget.limits.maxSteps || budget.evalDepth >= budget.limits.maxEvalDepth {
            throw budgetError(at: node.position)
        }
        budget.steps &+= 1
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

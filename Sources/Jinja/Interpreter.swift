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
//
// Files: this one holds the state, output, variables and instructions; loops and macros are in
// Interpreter+Loops.swift, expressions in Interpreter+Expressions.swift, filters in Filters*.swift.

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
        try step(at: ins.position)
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

    /// Counts one step of the template at `pos`, or throws when the step budget or the depth
    /// budget is spent.
    @inline(__always)
    func step(at pos: Int) throws(JinjaError) {
        if budget.steps >= budget.limits.maxSteps || budget.evalDepth >= budget.limits.maxEvalDepth {
            throw budgetError(at: pos)
        }
        budget.steps &+= 1
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
        try step(at: node.position)
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
}

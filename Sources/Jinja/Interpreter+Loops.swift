// Interpreter, loops and macros: `for` with jinja2's loop object, recursive loops and the else
// branch; macro calls and `{% call %}` blocks with caller().

extension Interpreter {
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
}

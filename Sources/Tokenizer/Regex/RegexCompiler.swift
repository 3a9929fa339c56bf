// RegexNode → instructions (see RegexProgram.swift for the instruction set).
//
// Compilation is continuation-passing: `compile(node, next:)` emits the node's code so that it
// continues at `next` and returns its entry, which makes explicit continuations (and copying a
// loop body with its edges rewired) straightforward. Counted repetitions are expanded into copies;
// look-around and atomic bodies become sub-programs, compiled after the main program.
//
// Bounds (a pattern is untrusted): at most `maxInstructions` instructions after expansion, at most
// `maxClasses` distinct character classes (each may hold an 8 KB bitmap), at most `maxCost`
// for instructions plus the maxima of bounded one-class repetitions (which the matcher may scan
// in full from each position). Past a bound, compiling fails with `RegexError.tooLarge`.

struct RegexCompiler {
    static let maxInstructions = 20_000
    static let maxClasses = 512
    static let maxCost = 200_000
    /// Marks "the end of the body being compiled" while a loop body is built for copying.
    private static let bodyEnd: Int32 = -2

    private(set) var insts: [RegexInst] = []
    private(set) var classSets: [ScalarSet] = []
    private var classIndex: [ScalarSet: Int32] = [:]
    private(set) var bytePool: [UInt8] = []
    private(set) var foldPool: [UInt32] = []
    private(set) var subs: [RegexSub] = []
    private var pending: [(sub: Int, node: RegexNode)] = []
    private var instSub: [Int32] = []
    private var currentSub: Int32 = 0
    private(set) var runPCs: [Int32] = []
    /// The class `\w` for `\b` and `\B`, added when the pattern has one (-1 until then).
    private(set) var wordClass: Int32 = -1
    private var cost = 0
    /// Offset in the pattern of the construct being compiled, for errors.
    private var offset = 0

    private struct Context {
        var backward = false
        /// One-class repetitions may use run instructions (main program, outside copied bodies).
        var runs = true
    }

    mutating func compileProgram(_ ast: RegexNode) throws(RegexError) {
        subs.append(RegexSub(kind: .main, entry: -1, backward: false))
        currentSub = 0
        let m = try emit(RegexInst(op: .match))
        subs[0].entry = try compile(ast, next: m, Context())
        var k = 0
        while k < pending.count {
            let (sub, node) = pending[k]
            k += 1
            currentSub = Int32(sub)
            let match = try emit(RegexInst(op: .match))
            subs[sub].entry = try compile(node, next: match, Context(backward: subs[sub].backward, runs: false))
        }
        assignSlots()
    }

    // MARK: Emission

    private mutating func emit(_ inst: RegexInst) throws(RegexError) -> Int32 {
        if insts.count >= RegexCompiler.maxInstructions {
            throw RegexError(.tooLarge, at: offset, "the pattern needs more than \(RegexCompiler.maxInstructions) instructions once counted repetitions ({n,m}) are expanded; finetok refuses it to keep matching bounded")
        }
        cost += 1
        insts.append(inst)
        instSub.append(currentSub)
        return Int32(insts.count - 1)
    }

    private mutating func classFor(_ set: ScalarSet) throws(RegexError) -> Int32 {
        if let k = classIndex[set] { return k }
        if classSets.count >= RegexCompiler.maxClasses {
            throw RegexError(.tooLarge, at: offset, "the pattern has more than \(RegexCompiler.maxClasses) distinct character classes")
        }
        let k = Int32(classSets.count)
        classSets.append(set)
        classIndex[set] = k
        return k
    }

    private mutating func addCost(_ n: Int) throws(RegexError) {
        cost += n
        if cost > RegexCompiler.maxCost {
            throw RegexError(.tooLarge, at: offset, "the pattern's counted repetitions add up to more than \(RegexCompiler.maxCost) steps per position")
        }
    }

    private mutating func newSub(_ kind: RegexSub.Kind, backward: Bool, _ body: RegexNode) -> Int32 {
        subs.append(RegexSub(kind: kind, entry: -1, backward: backward))
        pending.append((subs.count - 1, body))
        return Int32(subs.count - 1)
    }

    // MARK: Nodes

    private mutating func compile(_ node: RegexNode, next: Int32, _ ctx: Context) throws(RegexError) -> Int32 {
        switch node {
        case .empty:
            return next
        case let .literal(c, fold):
            return fold ? try foldRun([c], next: next, ctx) : try bytes(utf8([c]), next: next, ctx)
        case let .set(s, multi):
            let k = try classFor(s)
            let one = try emit(RegexInst(op: ctx.backward ? .setBack : .set, next: next, a: k))
            var alternatives = [one]
            if !ctx.backward {
                for m in multi { alternatives.append(try foldString(m, next: next, ctx)) }
            }
            return try chain(alternatives)
        case .concat(let xs):
            // Runs of literals become one byte string or one folded string.
            var k = 0
            var entry = next
            var groups: [(plain: [UInt32]?, folded: [UInt32]?, node: RegexNode?)] = []
            while k < xs.count {
                if case .literal(_, let f) = xs[k] {
                    var run: [UInt32] = []
                    while k < xs.count, case .literal(let c, let g) = xs[k], g == f {
                        run.append(c)
                        k += 1
                    }
                    groups.append(f ? (nil, run, nil) : (run, nil, nil))
                } else {
                    groups.append((nil, nil, xs[k]))
                    k += 1
                }
            }
            let order = ctx.backward ? Array(groups.indices) : Array(groups.indices.reversed())
            for g in order {
                let group = groups[g]
                if let plain = group.plain {
                    entry = try bytes(utf8(plain), next: entry, ctx)
                } else if let folded = group.folded {
                    entry = try foldRun(folded, next: entry, ctx)
                } else if let node = group.node {
                    entry = try compile(node, next: entry, ctx)
                }
            }
            return entry
        case .alternation(let xs):
            var entries: [Int32] = []
            for x in xs { entries.append(try compile(x, next: next, ctx)) }
            return try chain(entries)
        case let .quantified(x, min, max, kind, at):
            let saved = offset
            offset = at
            defer { offset = saved }
            return try repetition(x, min: min, max: max, kind: kind, next: next, ctx)
        case .anchor(let a):
            if (a == .wordBoundary || a == .notWordBoundary) && wordClass < 0 {
                wordClass = try classFor(UnicodeTables.set("\\w"))
            }
            return try emit(RegexInst(op: .assert, next: next, a: RegexCompiler.anchorCode(a)))
        case let .look(x, behind, negated, at):
            let saved = offset
            offset = at
            defer { offset = saved }
            if let k = try oneScalarClass(x) {
                return try emit(RegexInst(op: .lookSet, next: next, a: k, b: (negated ? 1 : 0) | (behind ? 2 : 0)))
            }
            if behind, let problem = RegexCompiler.lookBehindProblem(x) {
                throw RegexError(.unsupported, at: at, "\(problem) inside a look-behind is not supported")
            }
            if ctx.backward {
                throw RegexError(.unsupported, at: at, "look-around inside a look-behind is not supported")
            }
            let sub = newSub(.look, backward: behind, x)
            return try emit(RegexInst(op: .look, next: next, a: sub, b: negated ? 1 : 0))
        case .group(let x):
            return try compile(x, next: next, ctx)
        case .atomic(let x):
            if ctx.backward {
                throw RegexError(.unsupported, at: offset, "atomic groups and possessive quantifiers inside a look-behind are not supported")
            }
            let sub = newSub(.atomic, backward: false, x)
            return try emit(RegexInst(op: .atomic, next: next, a: sub))
        }
    }

    static func anchorCode(_ a: Anchor) -> Int32 {
        switch a {
        case .lineStart: return 0
        case .lineEnd: return 1
        case .textStart: return 2
        case .textEnd: return 3
        case .textEndOrFinalNewline: return 4
        case .wordBoundary: return 5
        case .notWordBoundary: return 6
        }
    }

    private static func lookBehindProblem(_ node: RegexNode) -> String? {
        switch node {
        case .look: return "look-around"
        case .atomic: return "an atomic group (or \\R)"
        case .quantified(let x, _, _, let kind, _):
            return kind == .possessive ? "a possessive quantifier" : lookBehindProblem(x)
        case .concat(let xs), .alternation(let xs):
            for x in xs { if let p = lookBehindProblem(x) { return p } }
            return nil
        case .group(let x): return lookBehindProblem(x)
        default: return nil
        }
    }

    /// `alternatives` tried in order.
    private mutating func chain(_ alternatives: [Int32]) throws(RegexError) -> Int32 {
        var entry = alternatives[alternatives.count - 1]
        for k in stride(from: alternatives.count - 2, through: 0, by: -1) {
            entry = try emit(RegexInst(op: .split, next: alternatives[k], alt: entry))
        }
        return entry
    }

    private func utf8(_ scalars: [UInt32]) -> [UInt8] {
        var out: [UInt8] = []
        for c in scalars { appendUTF8(c, to: &out) }
        return out
    }

    private mutating func bytes(_ b: [UInt8], next: Int32, _ ctx: Context) throws(RegexError) -> Int32 {
        let inst = RegexInst(op: ctx.backward ? .bytesBack : .bytes, next: next, a: Int32(bytePool.count), b: Int32(b.count))
        bytePool += b
        return try emit(inst)
    }

    /// A multi-scalar case-fold chunk (forward only: Oniguruma uses none in look-behind).
    private mutating func foldString(_ folded: [UInt32], next: Int32, _ ctx: Context) throws(RegexError) -> Int32 {
        if ctx.backward {
            throw RegexError(.unsupported, at: offset, "multi-character case folding inside a look-behind is not supported")
        }
        let inst = RegexInst(op: .fold, next: next, a: Int32(foldPool.count), b: Int32(folded.count))
        foldPool += folded
        return try emit(inst)
    }

    /// Case-insensitive literal scalars, cut into chunks as Oniguruma does
    /// (`unravel_case_fold_string`): from the left, three scalars whose simple folds spell a
    /// multi-scalar fold (`ffi`), else two (`ss`), else one. A chunk that spells a multi-scalar
    /// fold (or one scalar with such a fold, `ß`) becomes a `fold` instruction: the text matches
    /// it with one scalar of that full folding (`ß`, `ẞ`) or with one scalar of each position's
    /// case orbit (`sS`, `ſs`). Other chunks are one scalar's case orbit. So `(?i)sss` matches
    /// "ßs" but not "sß", as in Oniguruma. Look-behind bodies use the orbits only (Oniguruma
    /// drops multi-scalar folds there).
    private mutating func foldRun(_ scalars: [UInt32], next: Int32, _ ctx: Context) throws(RegexError) -> Int32 {
        enum Chunk { case orbit(UInt32), multi([UInt32]) }
        var chunks: [Chunk] = []
        var i = 0
        let simple = scalars.map(UnicodeTables.canonical)
        while i < scalars.count {
            if !ctx.backward {
                if i + 2 < scalars.count, UnicodeTables.multiFoldTargets.contains(Array(simple[i...(i + 2)])) {
                    chunks.append(.multi(Array(simple[i...(i + 2)])))
                    i += 3
                    continue
                }
                if i + 1 < scalars.count, UnicodeTables.multiFoldTargets.contains(Array(simple[i...(i + 1)])) {
                    chunks.append(.multi(Array(simple[i...(i + 1)])))
                    i += 2
                    continue
                }
                if UnicodeTables.multiFolds[scalars[i]] != nil {
                    chunks.append(.multi(UnicodeTables.fold(scalars[i])))
                    i += 1
                    continue
                }
            }
            chunks.append(.orbit(scalars[i]))
            i += 1
        }
        var entry = next
        for chunk in ctx.backward ? chunks : chunks.reversed() {
            switch chunk {
            case .multi(let targets):
                entry = try foldString(targets, next: entry, ctx)
            case .orbit(let c):
                if let orbit = UnicodeTables.orbits[c] {
                    let k = try classFor(ScalarSet(ranges: orbit.map { $0...$0 }))
                    entry = try emit(RegexInst(op: ctx.backward ? .setBack : .set, next: entry, a: k))
                } else {
                    entry = try bytes(utf8([c]), next: entry, ctx)
                }
            }
        }
        return entry
    }

    /// The class of a node that always matches exactly one scalar, or nil.
    private mutating func oneScalarClass(_ node: RegexNode) throws(RegexError) -> Int32? {
        switch node {
        case let .set(s, multi) where multi.isEmpty: return try classFor(s)
        case .group(let x): return try oneScalarClass(x)
        case .literal(let c, false): return try classFor(ScalarSet(scalar: c))
        case .literal(let c, true):
            let f = UnicodeTables.fold(c)
            guard f.count == 1 else { return nil }
            return try classFor(ScalarSet(ranges: (UnicodeTables.orbits[c] ?? [c]).map { $0...$0 }))
        default: return nil
        }
    }

    // MARK: Repetition

    private mutating func repetition(_ x: RegexNode, min: Int, max: Int?, kind: QuantifierKind, next: Int32,
                                     _ ctx: Context) throws(RegexError) -> Int32 {
        if max == 0 { return next }
        if kind != .lazy, ctx.runs, !ctx.backward, let k = try oneScalarClass(x) {
            return try run(k, min: min, max: max, possessive: kind == .possessive, next: next)
        }
        if kind == .possessive, max == nil || (min == 0 && max == 1), let k = try oneScalarClass(x) {
            // x*+ is x*(?!x) and x?+ is (?:x|(?!x)) when x is one scalar.
            let notX = try emit(RegexInst(op: .lookSet, next: next, a: k, b: 1 | (ctx.backward ? 2 : 0)))
            if max == 1 {
                let one = try emit(RegexInst(op: ctx.backward ? .setBack : .set, next: next, a: k))
                return try emit(RegexInst(op: .split, next: one, alt: notX))
            }
            return try repetition(x, min: min, max: nil, kind: .greedy, next: notX, Context(backward: ctx.backward, runs: false))
        }
        if kind == .possessive {
            if ctx.backward {
                throw RegexError(.unsupported, at: offset, "possessive quantifiers inside a look-behind are not supported")
            }
            let sub = newSub(.atomic, backward: false, .quantified(x, min: min, max: max, kind: .greedy, offset: offset))
            return try emit(RegexInst(op: .atomic, next: next, a: sub))
        }
        let lazy = kind == .lazy
        var entry: Int32
        if let max {
            // (x(x(x)?)?)? for the optional part, greedy or lazy.
            entry = next
            for _ in 0..<(max - min) {
                let body = try compile(x, next: entry, ctx)
                entry = try emit(lazy ? RegexInst(op: .split, next: next, alt: body) : RegexInst(op: .split, next: body, alt: next))
            }
        } else if x.isNullable {
            entry = try emptyCheckedLoop(x, lazy: lazy, next: next, ctx)
        } else {
            let loop = try emit(RegexInst(op: .split))
            let body = try compile(x, next: loop, ctx)
            insts[Int(loop)].next = lazy ? next : body
            insts[Int(loop)].alt = lazy ? body : next
            entry = loop
        }
        for _ in 0..<min { entry = try compile(x, next: entry, ctx) }
        return entry
    }

    /// A one-class repetition as a run instruction; an unbounded one also gets a plain-loop
    /// fallback (the matcher switches to it when a run's work exceeds its budget).
    private mutating func run(_ k: Int32, min: Int, max: Int?, possessive: Bool, next: Int32) throws(RegexError) -> Int32 {
        try addCost(max ?? 0)
        let r = try emit(RegexInst(op: possessive ? .runPossessive : .runGreedy, next: next, a: k, b: Int32(min), c: Int32(max ?? -1),
                                   d: Int32(runPCs.count)))
        runPCs.append(r)
        if max == nil {
            // Fallback: x{min} x* — and for a possessive run, (?!x) after it.
            var after = next
            if possessive { after = try emit(RegexInst(op: .lookSet, next: next, a: k, b: 1)) }
            let loop = try emit(RegexInst(op: .split))
            let body = try emit(RegexInst(op: .set, next: loop, a: k))
            insts[Int(loop)].next = body
            insts[Int(loop)].alt = after
            var entry = loop
            for _ in 0..<min { entry = try emit(RegexInst(op: .set, next: entry, a: k)) }
            insts[Int(r)].alt = entry
        }
        return r
    }

    /// `x*` (or `x*?`) where `x` can match empty, with Oniguruma's empty check: an iteration
    /// that matched nothing leaves the loop. The body is compiled twice: copy 0 runs while the
    /// iteration has consumed nothing and exits the loop at its end; its consuming edges lead
    /// into copy 1, which loops. The state "consumed yet?" lives in the program counter, so the
    /// memo (state = instruction × position) stays exact.
    private mutating func emptyCheckedLoop(_ x: RegexNode, lazy: Bool, next: Int32, _ ctxIn: Context) throws(RegexError) -> Int32 {
        var ctx = ctxIn
        ctx.runs = false
        let loop = try emit(RegexInst(op: .split))
        let start = Int32(insts.count)
        let bodyEntry = try compile(x, next: RegexCompiler.bodyEnd, ctx)
        let end = Int32(insts.count)
        if bodyEntry == RegexCompiler.bodyEnd { return next }
        let base = Int32(insts.count)
        func copy0(_ t: Int32) -> Int32 { t == RegexCompiler.bodyEnd ? next : base + (t - start) }
        func copy1(_ t: Int32) -> Int32 { t == RegexCompiler.bodyEnd ? loop : t }
        for k in start..<end {
            var inst = insts[Int(k)]
            if inst.consumes {
                inst.next = copy1(inst.next)
            } else if inst.op == .atomic {
                inst.alt = copy1(inst.next)
                inst.next = copy0(inst.next)
            } else {
                if inst.next != -1 { inst.next = copy0(inst.next) }
                if inst.alt != -1 { inst.alt = copy0(inst.alt) }
            }
            _ = try emit(inst)
        }
        for k in start..<end {
            if insts[Int(k)].next == RegexCompiler.bodyEnd { insts[Int(k)].next = loop }
            if insts[Int(k)].alt == RegexCompiler.bodyEnd { insts[Int(k)].alt = loop }
        }
        let entry0 = copy0(bodyEntry)
        insts[Int(loop)].next = lazy ? next : entry0
        insts[Int(loop)].alt = lazy ? entry0 : next
        return loop
    }

    // MARK: Memo slots

    /// Gives a memo slot to every instruction that can be reached at one position along more
    /// than one path: join points (in-degree > 1, counting the search loop's edge into the main
    /// entry), sub-program entries, run instructions and their continuations. Others are reached
    /// only through a single predecessor, so they are visited no more often than it is (every
    /// cycle passes through a join point); `match` ends the search, so it needs none.
    private mutating func assignSlots() {
        var inDegree = [Int](repeating: 0, count: insts.count)
        func edge(_ t: Int32) { if t >= 0 { inDegree[Int(t)] += 1 } }
        for inst in insts {
            edge(inst.next)
            if inst.op == .split || inst.op == .atomic { edge(inst.alt) }
            if inst.op == .runGreedy || inst.op == .runPossessive {
                // Continuations at many positions, and the fallback entry.
                edge(inst.next)
                edge(inst.alt)
            }
        }
        // A sub-program's entry holds its result for each position, so it always has a slot.
        // The main program's entry is also reached from the search loop (one more edge): so
        // a loop through the entry, like `(?>x)*`, has a slot on its cycle, as every cycle must.
        for s in subs.dropFirst() { inDegree[Int(s.entry)] += 2 }
        if subs[0].entry >= 0 { inDegree[Int(subs[0].entry)] += 1 }
        for (k, inst) in insts.enumerated() where inst.op != .match
            && (inDegree[k] > 1 || inst.op == .runGreedy || inst.op == .runPossessive) {
            let sub = Int(instSub[k])
            insts[k].slot = subs[sub].slotCount
            subs[sub].slotCount += 1
        }
    }
}

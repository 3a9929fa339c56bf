// Symbols: jinja2's scoping rules (`idtracking.py`), ported as they are, because they decide what
// a name means and the golden renders depend on it:
// - every frame (the template, a loop body, a macro, a set block, ...) has symbols: for each
//   name it uses, a ref (`l_<level>_<name>`, a Python local in jinja2) and how the ref is loaded
//   when the frame is entered: a parameter (set by the caller), `resolve` (the render's
//   variables), an alias of an outer ref (a copy, so assignments stay local), or unset;
// - a name's meaning is decided by the first use the analysis meets in the frame: a load finds
//   an outer ref or resolves from the variables; a store makes a local ref;
// - `if` does not make a frame: each branch is analysed on a copy and merged (`branchUpdate`).
// Refs belong to functions (the template, a macro, a caller, a loop filter); `Compiler` turns
// each ref into a slot of its function's activation.

/// A Python function of the compiled template: it owns the slots of its refs.
final class FunctionScope {
    let id: Int
    let parent: FunctionScope?
    /// The activation whose slots this function's refs use (itself, or its parent's for a loop
    /// filter, which jinja2 runs as a generator but here runs inline).
    let activation: ActivationScope

    init(id: Int, parent: FunctionScope?, activation: ActivationScope) {
        self.id = id
        self.parent = parent
        self.activation = activation
    }
}

/// The slots of one activation (a template render, a macro call, ...).
final class ActivationScope {
    let parent: ActivationScope?
    var slots: [String: Int] = [:]
    var count = 0

    init(parent: ActivationScope?) { self.parent = parent }

    func slot(_ key: String) -> Int {
        if let s = slots[key] { return s }
        slots[key] = count
        count += 1
        return count - 1
    }

    /// A slot nobody else uses (capture buffers).
    func freshSlot() -> Int {
        count += 1
        return count - 1
    }
}

final class Symbols {
    enum Load {
        case param
        case resolve(String)
        case alias(ref: String, owner: FunctionScope)
        case undefined
    }

    let level: Int
    let parent: Symbols?
    let function: FunctionScope
    var refs: [String: String] = [:]
    /// ref → load, in insertion order (jinja2 emits `enter_frame` in this order).
    var loads: [String: Load] = [:]
    var loadOrder: [String] = []
    var stores: Set<String> = []

    init(parent: Symbols?, level: Int? = nil, function: FunctionScope) {
        self.parent = parent
        self.level = level ?? (parent.map { $0.level + 1 } ?? 0)
        self.function = function
    }

    func copy() -> Symbols {
        let s = Symbols(parent: parent, level: level, function: function)
        s.refs = refs
        s.loads = loads
        s.loadOrder = loadOrder
        s.stores = stores
        return s
    }

    private func setLoad(_ ref: String, _ load: Load) {
        if loads[ref] == nil { loadOrder.append(ref) }
        loads[ref] = load
    }

    @discardableResult
    private func defineRef(_ name: String, _ load: Load?) -> String {
        let ref = "l_\(level)_\(name)"
        refs[name] = ref
        if let load { setLoad(ref, load) }
        return ref
    }

    /// The ref a name resolves to here and the function that owns it.
    func findRef(_ name: String) -> (ref: String, owner: FunctionScope)? {
        if let r = refs[name] { return (r, function) }
        return parent?.findRef(name)
    }

    func store(_ name: String) {
        stores.insert(name)
        if refs[name] == nil {
            if let parent, let outer = parent.findRef(name) {
                defineRef(name, .alias(ref: outer.ref, owner: outer.owner))
                return
            }
            defineRef(name, .undefined)
        }
    }

    @discardableResult
    func declareParameter(_ name: String) -> String {
        stores.insert(name)
        return defineRef(name, .param)
    }

    func load(_ name: String) {
        if findRef(name) == nil { defineRef(name, .resolve(name)) }
    }

    /// jinja2's `branch_update`: merges the symbols of the branches of an `if`.
    func branchUpdate(_ branches: [Symbols]) {
        var branchStores = Set<String>()
        var ordered: [String] = []
        for b in branches {
            for s in b.stores.sorted() where !branchStores.contains(s) {
                branchStores.insert(s)
                ordered.append(s)
            }
        }
        let newStores = ordered.filter { !stores.contains($0) }
        for b in branches {
            for (k, v) in b.refs { refs[k] = v }
            for r in b.loadOrder { if let l = b.loads[r] { setLoad(r, l) } }
            stores.formUnion(b.stores)
        }
        for name in newStores {
            guard let target = findRef(name)?.ref else { continue }
            if let parent, let outer = parent.findRef(name) {
                setLoad(target, .alias(ref: outer.ref, owner: outer.owner))
                continue
            }
            setLoad(target, .resolve(name))
        }
    }

    // MARK: Analysis (jinja2's RootVisitor and FrameSymbolVisitor)

    /// Analyses the statements of a frame's body.
    func analyze(body: [Stmt]) {
        for s in body { visit(s) }
    }

    /// FrameSymbolVisitor.visit for expressions.
    func visit(_ e: Expr, storeAsParam: Bool = false) {
        switch e.kind {
        case .name(let n, let ctx):
            if storeAsParam || ctx == .param {
                declareParameter(n)
            } else if ctx == .store {
                store(n)
            } else {
                load(n)
            }
        case .namespaceRef(let n, _):
            load(n)
        default:
            for c in e.children { visit(c, storeAsParam: storeAsParam) }
        }
    }

    /// FrameSymbolVisitor.visit for statements: it stops at nested frames.
    func visit(_ s: Stmt) {
        switch s.kind {
        case .output(let items):
            for e in items { visit(e) }
        case .ifStmt(let node):
            visitIf(test: node.branches[0].test, body: node.branches[0].body,
                    elifs: Array(node.branches.dropFirst()), orElse: node.orElse)
        case .macro(let name, _, _):
            store(name)
        case .assign(let target, let value):
            visit(value)
            visit(target)
        case .forLoop(let f):
            visit(f.iterable)
        case .callBlock(let call, _, _):
            visit(call)
        case .filterBlock(let filter, _):
            visit(filter)
        case .with(_, let values, _):
            for v in values { visit(v) }
        case .assignBlock(let target, _, _):
            visit(target)
        case .breakLoop, .continueLoop, .generation:
            break
        }
    }

    private func visitIf(test: Expr, body: [Stmt], elifs: [(test: Expr, body: [Stmt])], orElse: [Stmt]) {
        visit(test)
        func inner(_ f: (Symbols) -> Void) -> Symbols {
            let c = copy()
            f(c)
            return c
        }
        let bodySymbols = inner { s in s.analyze(body: body) }
        let elifSymbols = inner { s in
            for e in elifs { s.visitIf(test: e.test, body: e.body, elifs: [], orElse: []) }
        }
        let elseSymbols = inner { s in s.analyze(body: orElse) }
        branchUpdate([bodySymbols, elifSymbols, elseSymbols])
    }
}

/// jinja2's `find_undeclared`: which of `names` the nodes load before storing them, walking
/// every nested node in jinja2's field order.
struct UndeclaredNames {
    var names: Set<String>
    var undeclared = Set<String>()

    init(_ names: [String]) { self.names = Set(names) }

    static func find(in body: [Stmt], _ names: [String]) -> Set<String> {
        var v = UndeclaredNames(names)
        for s in body { v.visit(s) }
        return v.undeclared
    }

    mutating func visit(_ e: Expr) {
        switch e.kind {
        case .name(let n, let ctx):
            if ctx == .load && names.contains(n) {
                undeclared.insert(n)
            } else {
                names.remove(n)
            }
        case .call(let callee, let args):
            visit(callee)
            visit(args)
        case .filter(let value, _, let args):
            if let value { visit(value) }
            visit(args)
        case .test(let value, _, let args):
            visit(value)
            visit(args)
        case .conditional(let test, let then, let orElse):
            visit(test)
            visit(then)
            if let orElse { visit(orElse) }
        default:
            for c in e.children { visit(c) }
        }
    }

    mutating func visit(_ a: CallArguments) {
        for p in a.positional { visit(p) }
        for (_, k) in a.keywords { visit(k) }
        if let s = a.star { visit(s) }
        if let s = a.starStar { visit(s) }
    }

    mutating func visit(_ sig: Signature) {
        for p in sig.params {
            if names.contains(p) { names.remove(p) }
        }
        for d in sig.defaults { visit(d) }
    }

    mutating func visit(_ s: Stmt) {
        switch s.kind {
        case .output(let items): for e in items { visit(e) }
        case .forLoop(let f):
            visit(f.target)
            visit(f.iterable)
            for b in f.body { visit(b) }
            for b in f.orElse { visit(b) }
            if let t = f.filter { visit(t) }
        case .ifStmt(let node):
            for (test, body) in node.branches {
                visit(test)
                for b in body { visit(b) }
            }
            for b in node.orElse { visit(b) }
        case .macro(_, let sig, let body):
            visit(sig)
            for b in body { visit(b) }
        case .callBlock(let call, let sig, let body):
            visit(call)
            visit(sig)
            for b in body { visit(b) }
        case .filterBlock(let filter, let body):
            for b in body { visit(b) }
            visit(filter)
        case .with(let targets, let values, let body):
            for t in targets { visit(t) }
            for v in values { visit(v) }
            for b in body { visit(b) }
        case .assign(let target, let value):
            visit(target)
            visit(value)
        case .assignBlock(let target, let filter, let body):
            visit(target)
            if let filter { visit(filter) }
            for b in body { visit(b) }
        case .generation(let body):
            for b in body { visit(b) }
        case .breakLoop, .continueLoop: break
        }
    }
}

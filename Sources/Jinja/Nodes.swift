// Nodes: the syntax tree the parser builds, one case per jinja2 node type (jinja2's `nodes.py`).
// It is what the template *says*; `Compiler` turns it into `Code` (what the interpreter runs),
// resolving every name to a slot once, as jinja2's compiler resolves names to Python locals.
//
// Every node records its byte offset in the normalized source (for line:column in errors) and
// the depth of the subtree under it, so a tree deeper than `JinjaLimits.maxNestingDepth` is
// refused while parsing and nothing later can recurse deeper than that.

/// A literal constant (jinja2's `Const`).
enum Constant: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
}

enum BinaryOperator: Sendable {
    case add, sub, mul, div, floordiv, mod, pow

    var symbol: String {
        switch self {
        case .add: return "+"
        case .sub: return "-"
        case .mul: return "*"
        case .div: return "/"
        case .floordiv: return "//"
        case .mod: return "%"
        case .pow: return "**"
        }
    }
}

enum CompareOperator: Sendable {
    case eq, ne, lt, lteq, gt, gteq, `in`, notin
}

enum NameContext: Sendable { case load, store, param }

/// Arguments of a call, filter or test: `f(a, b, k=v, *args, **kwargs)`.
struct CallArguments: Sendable {
    var positional: [Expr] = []
    var keywords: [(String, Expr)] = []
    var star: Expr? = nil
    var starStar: Expr? = nil

    var children: [Expr] { positional + keywords.map(\.1) + [star, starStar].compactMap { $0 } }
}

final class Expr: Sendable {
    enum Kind: Sendable {
        /// Template text between tags (only inside `Stmt.Kind.output`).
        case data(String)
        case name(String, NameContext)
        /// `ns.attr` as an assignment target.
        case namespaceRef(String, String)
        case constant(Constant)
        case tuple([Expr], NameContext)
        case list([Expr])
        case dict([(Expr, Expr)])
        /// `a if test else b` (`orElse` nil when there is no else).
        case conditional(test: Expr, then: Expr, orElse: Expr?)
        case binary(BinaryOperator, Expr, Expr)
        case and(Expr, Expr)
        case or(Expr, Expr)
        case not(Expr)
        case negative(Expr)
        case positive(Expr)
        /// `a ~ b ~ c`
        case concat([Expr])
        /// `a < b <= c`
        case compare(Expr, [(CompareOperator, Expr)])
        case getattr(Expr, String)
        case getitem(Expr, Expr)
        /// `start:stop:step` inside a subscript.
        case slice(Expr?, Expr?, Expr?)
        case call(Expr, CallArguments)
        /// `value | name(args)`; `value` is nil for the filter of a `{% filter %}` block.
        case filter(Expr?, String, CallArguments)
        /// `value is name(args)`
        case test(Expr, String, CallArguments)
    }

    let kind: Kind
    let pos: Int
    let depth: Int

    init(_ kind: Kind, _ pos: Int, depth: Int) {
        self.kind = kind
        self.pos = pos
        self.depth = depth
    }

    var children: [Expr] {
        switch kind {
        case .data, .name, .namespaceRef, .constant: return []
        case .tuple(let items, _), .list(let items), .concat(let items): return items
        case .dict(let pairs): return pairs.flatMap { [$0.0, $0.1] }
        case .conditional(let t, let a, let b): return [t, a] + (b.map { [$0] } ?? [])
        case .binary(_, let a, let b), .and(let a, let b), .or(let a, let b), .getitem(let a, let b): return [a, b]
        case .not(let a), .negative(let a), .positive(let a), .getattr(let a, _): return [a]
        case .compare(let a, let ops): return [a] + ops.map(\.1)
        case .slice(let a, let b, let c): return [a, b, c].compactMap { $0 }
        case .call(let f, let args): return [f] + args.children
        case .filter(let v, _, let args): return (v.map { [$0] } ?? []) + args.children
        case .test(let v, _, let args): return [v] + args.children
        }
    }

    /// jinja2's `can_assign`: names, namespace refs and tuples of them.
    var canAssign: Bool {
        switch kind {
        case .name(let n, _): return !["true", "false", "none", "True", "False", "None"].contains(n)
        case .namespaceRef: return true
        case .tuple(let items, _): return items.allSatisfy(\.canAssign)
        default: return false
        }
    }
}

/// A macro or call-block signature: parameter names and the defaults of the last ones.
struct Signature: Sendable {
    var params: [String] = []
    var paramPositions: [Int] = []
    var defaults: [Expr] = []
}

final class Stmt: Sendable {
    enum Kind: Sendable {
        /// Template data and `{{ expressions }}` (jinja2's `Output`).
        case output([Expr])
        case forLoop(ForNode)
        case ifStmt(IfNode)
        case macro(name: String, Signature, body: [Stmt])
        /// `{% call(params) f(args) %}body{% endcall %}`
        case callBlock(call: Expr, Signature, body: [Stmt])
        /// `{% filter f %}body{% endfilter %}`: `filter` is the chain with a nil innermost value.
        case filterBlock(filter: Expr, body: [Stmt])
        case with(targets: [Expr], values: [Expr], body: [Stmt])
        case assign(target: Expr, value: Expr)
        /// `{% set x %}body{% endset %}`, optionally `{% set x | filter %}`.
        case assignBlock(target: Expr, filter: Expr?, body: [Stmt])
        case breakLoop
        case continueLoop
        /// transformers' `{% generation %}...{% endgeneration %}` (a call block in jinja2).
        case generation(body: [Stmt])
    }

    let kind: Kind
    let pos: Int

    init(_ kind: Kind, _ pos: Int) {
        self.kind = kind
        self.pos = pos
    }
}

final class ForNode: Sendable {
    let target: Expr
    let iterable: Expr
    let body: [Stmt]
    let orElse: [Stmt]
    let filter: Expr?
    let recursive: Bool

    init(target: Expr, iterable: Expr, body: [Stmt], orElse: [Stmt], filter: Expr?, recursive: Bool) {
        self.target = target
        self.iterable = iterable
        self.body = body
        self.orElse = orElse
        self.filter = filter
        self.recursive = recursive
    }
}

final class IfNode: Sendable {
    /// `if` and each `elif`, in order.
    let branches: [(test: Expr, body: [Stmt])]
    let orElse: [Stmt]

    init(branches: [(test: Expr, body: [Stmt])], orElse: [Stmt]) {
        self.branches = branches
        self.orElse = orElse
    }
}

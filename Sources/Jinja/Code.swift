// Code: the compiled template, what the interpreter runs (jinja2 compiles to Python source; this
// is the same program as a tree). Built once per template by `Compiler`; rendering never looks at
// names or source text again.
//
// Variables live in slots. Each function (the template itself, a macro, a call block's caller,
// `{% generation %}`'s body) has an activation: an array of slots, allocated per call; loop bodies
// and other inner scopes use slots of their function's activation, exactly where jinja2 would use
// a Python local. A name is resolved at compile time to (how many activations up, which slot).
// Entering a scope runs its `FrameInit` list: jinja2's `enter_frame` (copy a variable from the
// outer scope, look a name up in the render's variables, or mark it unset).

/// Where a variable lives: `depth` activations up (0 = the current one), slot `slot`.
struct SlotRef: Sendable, Equatable {
    var depth: Int
    var slot: Int
}

/// jinja2's `enter_frame` / `leave_frame` instructions.
enum FrameInit: Sendable {
    /// slot = the render variable or global `names[name]` (unset if there is none).
    case resolve(slot: Int, name: Int)
    /// slot = the value of an outer variable (jinja2's alias load).
    case alias(slot: Int, from: SlotRef)
    /// slot = unset.
    case clear(slot: Int)
}

indirect enum Expression: Sendable {
    case constant(Value)
    /// A variable; an unset slot reads as `Undefined(name)`.
    case variable(SlotRef, name: String)
    /// A name jinja2's compiler could not place (only in `{% set x | filter(args) %}`): looked
    /// up in the render's variables when evaluated.
    case global(name: Int, String)
    case list([Expression], pos: Int)
    case tuple([Expression], pos: Int)
    case dict([(Expression, Expression)], pos: Int)
    case conditional(test: Expression, then: Expression, orElse: Expression?, undefinedHint: String)
    case binary(BinaryOperator, Expression, Expression, pos: Int)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case not(Expression)
    case negative(Expression, pos: Int)
    case positive(Expression, pos: Int)
    case concat([Expression], pos: Int)
    case compare(Expression, [(CompareOperator, Expression)], pos: Int)
    case getattr(Expression, Name, pos: Int)
    case getitem(Expression, Expression, pos: Int)
    case slice(Expression, Expression?, Expression?, Expression?, pos: Int)
    case call(Expression, CallCode, pos: Int)
    /// `obj.name(args)` without building a bound method first (same semantics as getattr + call).
    case callMethod(Expression, Name, CallCode, pos: Int)
    case filter(Filter, Expression, CallCode, pos: Int)
    case test(Test, Expression, CallCode, pos: Int)
    /// A filter or test name jinja2 could not find, inside an `if`: an error only when evaluated.
    case unknown(message: String, pos: Int)
}

struct CallCode: Sendable {
    var positional: [Expression] = []
    var keywords: [(String, Expression)] = []
    var star: Expression? = nil
    var starStar: Expression? = nil

    var isEmpty: Bool { positional.isEmpty && keywords.isEmpty && star == nil && starStar == nil }
}

/// An assignment target.
indirect enum Target: Sendable {
    case slot(Int)
    /// `ns.attr = value`: the namespace variable and the attribute.
    case namespace(SlotRef, name: String, attr: String, pos: Int)
    case tuple([Target], pos: Int)
}

enum Instruction: Sendable {
    /// Template text.
    case text(PyString)
    /// `{{ expression }}`.
    case print(Expression, pos: Int)
    case ifChain([(Expression, [Instruction])], orElse: [Instruction])
    case forLoop(ForCode)
    case assign(Target, Expression, pos: Int)
    /// `{% set x %}...{% endset %}`: render the body into a string, filter it, assign it.
    case assignBlock(Target, CaptureCode, pos: Int)
    /// `{% filter f %}...{% endfilter %}`: render the body, filter it, print it.
    case filterBlock(CaptureCode, pos: Int)
    case with(enter: [FrameInit], assignments: [(Target, Expression)], body: [Instruction], leave: [Int])
    /// Define a macro: a `MacroObject` over the current activation, stored in `slot`.
    case macro(slot: Int, MacroCode)
    /// `{% call(args) f(...) %}body{% endcall %}`: call `f` with `caller` = the body as a macro.
    case callBlock(call: Expression, caller: MacroCode, pos: Int)
    /// transformers' `{% generation %}`: render the body (a macro called at once), record its span.
    case generation(MacroCode, pos: Int)
    case breakLoop
    case continueLoop
    case frame([FrameInit])
}

/// A captured body (`set` block, `filter` block).
final class CaptureCode: Sendable {
    let enter: [FrameInit]
    let body: [Instruction]
    /// The filter applied to the captured text: an expression reading it from `captureSlot`.
    let filter: Expression?
    let captureSlot: Int
    let leave: [Int]

    init(enter: [FrameInit], body: [Instruction], filter: Expression?, captureSlot: Int, leave: [Int]) {
        self.enter = enter
        self.body = body
        self.filter = filter
        self.captureSlot = captureSlot
        self.leave = leave
    }
}

final class ForCode: Sendable {
    let target: Target
    let iterable: Expression
    /// `for x in xs if cond`: the test, with its own target (jinja2 runs it in a generator).
    let filter: (enter: [FrameInit], target: Target, test: Expression)?
    /// The slot of `loop`, when the body uses it.
    let loopSlot: Int?
    let enterBody: [FrameInit]
    let body: [Instruction]
    let leaveBody: [Int]
    let orElse: (enter: [FrameInit], body: [Instruction], leave: [Int])?
    let recursive: Bool
    /// Slots of the activation a recursive loop runs in (0 when not recursive).
    let slotCount: Int
    let pos: Int

    init(target: Target, iterable: Expression, filter: (enter: [FrameInit], target: Target, test: Expression)?,
         loopSlot: Int?, enterBody: [FrameInit], body: [Instruction], leaveBody: [Int],
         orElse: (enter: [FrameInit], body: [Instruction], leave: [Int])?, recursive: Bool, slotCount: Int, pos: Int) {
        self.target = target
        self.iterable = iterable
        self.filter = filter
        self.loopSlot = loopSlot
        self.enterBody = enterBody
        self.body = body
        self.leaveBody = leaveBody
        self.orElse = orElse
        self.recursive = recursive
        self.slotCount = slotCount
        self.pos = pos
    }
}

/// A macro, call-block caller or generation body: a function with its own activation.
final class MacroCode: Sendable {
    /// nil for a call block's caller and for generation bodies.
    let name: String?
    let params: [String]
    let paramSlots: [Int]
    /// Defaults of the last parameters (`defaults.count <= params.count`).
    let defaults: [Expression]
    /// Slots of the implicit `caller`, `kwargs`, `varargs` parameters, when the body uses them.
    let callerSlot: Int?
    let kwargsSlot: Int?
    let varargsSlot: Int?
    /// Whether `caller` is one of `params`.
    let explicitCaller: Bool
    let slotCount: Int
    let enter: [FrameInit]
    let body: [Instruction]

    init(name: String?, params: [String], paramSlots: [Int], defaults: [Expression], callerSlot: Int?,
         kwargsSlot: Int?, varargsSlot: Int?, explicitCaller: Bool, slotCount: Int, enter: [FrameInit], body: [Instruction]) {
        self.name = name
        self.params = params
        self.paramSlots = paramSlots
        self.defaults = defaults
        self.callerSlot = callerSlot
        self.kwargsSlot = kwargsSlot
        self.varargsSlot = varargsSlot
        self.explicitCaller = explicitCaller
        self.slotCount = slotCount
        self.enter = enter
        self.body = body
    }
}

/// The whole compiled template.
final class Program: Sendable {
    let name: String
    /// Normalized source (for line:column of runtime errors).
    let source: [UInt8]
    let body: [Instruction]
    let slotCount: Int
    /// Names looked up in the render's variables and globals (`FrameInit.resolve` indexes this).
    let names: [String]
    let usesGeneration: Bool

    init(name: String, source: [UInt8], body: [Instruction], slotCount: Int, names: [String], usesGeneration: Bool) {
        self.name = name
        self.source = source
        self.body = body
        self.slotCount = slotCount
        self.names = names
        self.usesGeneration = usesGeneration
    }
}

extension Expression {
    /// The byte offset of the expression in the source, or -1 when it has none of its own.
    var position: Int {
        switch self {
        case .list(_, let p), .tuple(_, let p), .dict(_, let p), .binary(_, _, _, let p), .negative(_, let p),
             .positive(_, let p), .concat(_, let p), .compare(_, _, let p), .getattr(_, _, let p), .getitem(_, _, let p),
             .slice(_, _, _, _, let p), .call(_, _, let p), .callMethod(_, _, _, let p), .filter(_, _, _, let p),
             .test(_, _, _, let p), .unknown(_, let p):
            return p
        case .conditional(let t, _, _, _): return t.position
        case .and(let a, _), .or(let a, _), .not(let a): return a.position
        case .constant, .variable, .global: return -1
        }
    }
}

extension Instruction {
    /// The byte offset of the statement in the source, or -1.
    var position: Int {
        switch self {
        case .print(_, let p), .assign(_, _, let p), .assignBlock(_, _, let p), .filterBlock(_, let p),
             .callBlock(_, _, let p), .generation(_, let p):
            return p
        case .forLoop(let f): return f.pos
        case .ifChain(let branches, _): return branches.first?.0.position ?? -1
        case .text, .with, .macro, .breakLoop, .continueLoop, .frame: return -1
        }
    }
}

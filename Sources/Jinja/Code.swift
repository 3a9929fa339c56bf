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

/// A compiled expression. The tree is made of final classes: the interpreter switches on `tag`
/// and reads the node's fields in place (an indirect enum would copy, and retain, every payload
/// on each visit).
class Expression: @unchecked Sendable {
    enum Tag: UInt8 {
        case constant, variable, global, list, tuple, dict, conditional, binary, addChain, and, or, not, negative, positive
        case concat, compare, getattr, getitem, slice, call, callMethod, filter, test, unknown
    }

    let tag: Tag
    /// The byte offset in the source, or -1 when the node has no place of its own.
    let pos: Int

    init(_ tag: Tag, _ pos: Int) {
        self.tag = tag
        self.pos = pos
    }

    /// The byte offset of the expression in the source, or -1.
    var position: Int { pos }
}

final class ConstantExpr: Expression, @unchecked Sendable {
    let value: Value
    init(_ value: Value) {
        self.value = value
        super.init(.constant, -1)
    }
}

/// A variable; an unset slot reads as `Undefined(name)`.
final class VariableExpr: Expression, @unchecked Sendable {
    let ref: SlotRef
    let name: String
    init(_ ref: SlotRef, name: String) {
        self.ref = ref
        self.name = name
        super.init(.variable, -1)
    }
}

/// A name jinja2's compiler could not place (only in `{% set x | filter(args) %}`): looked up in
/// the render's variables when evaluated.
final class GlobalExpr: Expression, @unchecked Sendable {
    let index: Int
    let name: String
    init(index: Int, name: String) {
        self.index = index
        self.name = name
        super.init(.global, -1)
    }
}

/// `[a, b]`, `(a, b)`, `a ~ b ~ c` (tag `.list`, `.tuple`, `.concat`).
final class ItemsExpr: Expression, @unchecked Sendable {
    let items: [Expression]
    init(_ tag: Tag, _ items: [Expression], pos: Int) {
        self.items = items
        super.init(tag, pos)
    }
}

/// `a + b + c + ...` (a left-nested chain of `+`): strings are appended to one buffer instead of
/// building every intermediate string; anything else falls back to `+` step by step, in the same
/// order. `positions[i]` is the place of the `+` after operand i.
final class AddChainExpr: Expression, @unchecked Sendable {
    let items: [Expression]
    let positions: [Int]
    init(_ items: [Expression], positions: [Int]) {
        self.items = items
        self.positions = positions
        super.init(.addChain, positions.first ?? -1)
    }
}

final class DictExpr: Expression, @unchecked Sendable {
    let keys: [Expression]
    let values: [Expression]
    init(keys: [Expression], values: [Expression], pos: Int) {
        self.keys = keys
        self.values = values
        super.init(.dict, pos)
    }
}

/// `then if test else orElse` (no else: an Undefined with jinja2's hint).
final class ConditionalExpr: Expression, @unchecked Sendable {
    let test: Expression
    let then: Expression
    let orElse: Expression?
    let undefinedHint: String
    init(test: Expression, then: Expression, orElse: Expression?, undefinedHint: String) {
        self.test = test
        self.then = then
        self.orElse = orElse
        self.undefinedHint = undefinedHint
        super.init(.conditional, test.position)
    }
}

/// `a op b` (tag `.binary`), `a and b`, `a or b` (tags `.and`, `.or`; `op` unused).
final class BinaryExpr: Expression, @unchecked Sendable {
    let op: BinaryOperator
    let lhs: Expression
    let rhs: Expression
    init(_ tag: Tag, _ op: BinaryOperator, _ lhs: Expression, _ rhs: Expression, pos: Int) {
        self.op = op
        self.lhs = lhs
        self.rhs = rhs
        super.init(tag, pos)
    }
}

/// `not a`, `-a`, `+a`.
final class UnaryExpr: Expression, @unchecked Sendable {
    let operand: Expression
    init(_ tag: Tag, _ operand: Expression, pos: Int) {
        self.operand = operand
        super.init(tag, pos)
    }
}

/// `a < b <= c`
final class CompareExpr: Expression, @unchecked Sendable {
    let first: Expression
    let operators: [CompareOperator]
    let operands: [Expression]
    init(_ first: Expression, _ ops: [(CompareOperator, Expression)], pos: Int) {
        self.first = first
        operators = ops.map(\.0)
        operands = ops.map(\.1)
        super.init(.compare, pos)
    }
}

final class GetattrExpr: Expression, @unchecked Sendable {
    let object: Expression
    let name: Name
    init(_ object: Expression, _ name: Name, pos: Int) {
        self.object = object
        self.name = name
        super.init(.getattr, pos)
    }
}

final class GetitemExpr: Expression, @unchecked Sendable {
    let object: Expression
    let key: Expression
    /// The key, when it is a string constant (`message['role']`), with its hash.
    let constantKey: Name?
    init(_ object: Expression, _ key: Expression, pos: Int) {
        self.object = object
        self.key = key
        if let c = key as? ConstantExpr, case .string(let s) = c.value {
            constantKey = Name(s)
        } else {
            constantKey = nil
        }
        super.init(.getitem, pos)
    }
}

final class SliceExpr: Expression, @unchecked Sendable {
    let object: Expression
    let start: Expression?
    let stop: Expression?
    let step: Expression?
    init(_ object: Expression, _ start: Expression?, _ stop: Expression?, _ step: Expression?, pos: Int) {
        self.object = object
        self.start = start
        self.stop = stop
        self.step = step
        super.init(.slice, pos)
    }
}

/// `f(args)` (tag `.call`) and `obj.name(args)` (tag `.callMethod`, `name` set): the latter
/// has the same semantics as getattr then call, without building a bound method first.
final class CallExpr: Expression, @unchecked Sendable {
    let callee: Expression
    let name: Name?
    let args: CallCode
    init(_ callee: Expression, method name: Name?, _ args: CallCode, pos: Int) {
        self.callee = callee
        self.name = name
        self.args = args
        super.init(name == nil ? .call : .callMethod, pos)
    }
}

final class FilterExpr: Expression, @unchecked Sendable {
    let filter: Filter
    let operand: Expression
    let args: CallCode
    init(_ filter: Filter, _ operand: Expression, _ args: CallCode, pos: Int) {
        self.filter = filter
        self.operand = operand
        self.args = args
        super.init(.filter, pos)
    }
}

final class TestExpr: Expression, @unchecked Sendable {
    let test: Test
    let operand: Expression
    let args: CallCode
    init(_ test: Test, _ operand: Expression, _ args: CallCode, pos: Int) {
        self.test = test
        self.operand = operand
        self.args = args
        super.init(.test, pos)
    }
}

/// A filter or test name jinja2 could not find, inside an `if`: an error only when evaluated.
final class UnknownExpr: Expression, @unchecked Sendable {
    let message: String
    init(message: String, pos: Int) {
        self.message = message
        super.init(.unknown, pos)
    }
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

/// A compiled statement (final subclasses, as for `Expression`).
class Instruction: @unchecked Sendable {
    enum Tag: UInt8 {
        case text, print, ifChain, forLoop, assign, assignBlock, filterBlock, with, macro, callBlock, generation
        case breakLoop, continueLoop, frame
    }

    let tag: Tag
    /// The byte offset in the source, or -1.
    let pos: Int

    init(_ tag: Tag, _ pos: Int) {
        self.tag = tag
        self.pos = pos
    }

    /// The byte offset of the statement in the source, or -1.
    var position: Int { pos }

    static let breakLoop = Instruction(.breakLoop, -1)
    static let continueLoop = Instruction(.continueLoop, -1)
}

/// Template text.
final class TextInstr: Instruction, @unchecked Sendable {
    let text: PyString
    init(_ text: PyString) {
        self.text = text
        super.init(.text, -1)
    }
}

/// `{{ expression }}`.
final class PrintInstr: Instruction, @unchecked Sendable {
    let expr: Expression
    init(_ expr: Expression, pos: Int) {
        self.expr = expr
        super.init(.print, pos)
    }
}

final class IfInstr: Instruction, @unchecked Sendable {
    let tests: [Expression]
    let bodies: [[Instruction]]
    let orElse: [Instruction]
    init(tests: [Expression], bodies: [[Instruction]], orElse: [Instruction]) {
        self.tests = tests
        self.bodies = bodies
        self.orElse = orElse
        super.init(.ifChain, tests.first?.position ?? -1)
    }
}

final class AssignInstr: Instruction, @unchecked Sendable {
    let target: Target
    let value: Expression
    init(_ target: Target, _ value: Expression, pos: Int) {
        self.target = target
        self.value = value
        super.init(.assign, pos)
    }
}

/// `{% set x %}...{% endset %}` (tag `.assignBlock`, `target` set) renders the body into a
/// string, filters it and assigns it; `{% filter f %}...{% endfilter %}` (tag `.filterBlock`)
/// prints it.
final class CaptureInstr: Instruction, @unchecked Sendable {
    let target: Target?
    let capture: CaptureCode
    init(_ target: Target?, _ capture: CaptureCode, pos: Int) {
        self.target = target
        self.capture = capture
        super.init(target == nil ? .filterBlock : .assignBlock, pos)
    }
}

final class WithInstr: Instruction, @unchecked Sendable {
    let enter: [FrameInit]
    let targets: [Target]
    let values: [Expression]
    let body: [Instruction]
    let leave: [Int]
    init(enter: [FrameInit], targets: [Target], values: [Expression], body: [Instruction], leave: [Int]) {
        self.enter = enter
        self.targets = targets
        self.values = values
        self.body = body
        self.leave = leave
        super.init(.with, -1)
    }
}

/// Define a macro: a `MacroObject` over the current activation, stored in `slot`.
final class MacroInstr: Instruction, @unchecked Sendable {
    let slot: Int
    let code: MacroCode
    init(slot: Int, _ code: MacroCode) {
        self.slot = slot
        self.code = code
        super.init(.macro, -1)
    }
}

/// `{% call(args) f(...) %}body{% endcall %}` (tag `.callBlock`): call `f` with `caller` = the
/// body as a macro; transformers' `{% generation %}` (tag `.generation`, `call` nil): render the
/// body (a macro called at once) and record its span.
final class CallBlockInstr: Instruction, @unchecked Sendable {
    let call: CallExpr?
    let caller: MacroCode
    init(call: CallExpr?, caller: MacroCode, pos: Int) {
        self.call = call
        self.caller = caller
        super.init(call == nil ? .generation : .callBlock, pos)
    }
}

final class FrameInstr: Instruction, @unchecked Sendable {
    let inits: [FrameInit]
    init(_ inits: [FrameInit]) {
        self.inits = inits
        super.init(.frame, -1)
    }
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

final class ForCode: Instruction, @unchecked Sendable {
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
        super.init(.forLoop, pos)
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
    /// The same, as a set: a render variable the template never names need not be converted.
    let referencedNames: Set<String>
    let usesGeneration: Bool

    init(name: String, source: [UInt8], body: [Instruction], slotCount: Int, names: [String], usesGeneration: Bool) {
        self.name = name
        self.source = source
        self.body = body
        self.slotCount = slotCount
        self.names = names
        self.referencedNames = Set(names)
        self.usesGeneration = usesGeneration
    }
}

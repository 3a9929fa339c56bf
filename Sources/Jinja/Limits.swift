// The sandbox's limits. Templates are untrusted code: a chat template from a model repository can
// loop forever, recurse without end or build a gigabyte string. Every such template stops with a
// `JinjaError` of kind `.limit` that names the limit, never a hang, a crash or a stack overflow.
//
// What is bounded and how:
// - work: every evaluated node, loop iteration and element a filter touches costs one step, and
//   building strings costs one step per 16 bytes (`maxSteps`);
// - memory: any one string (`maxStringBytes`), list/dict/tuple (`maxContainerLength`), the output
//   (`maxOutputBytes`), values nested in values (`maxNestingDepth`);
// - the stack: the syntax tree's depth is bounded when parsing (`maxNestingDepth`, so parsing,
//   compiling and evaluating a tree recurse at most that deep), and the interpreter counts its own
//   recursion (`maxEvalDepth`: nested expressions, statements and macro calls together).
// jinja2's own sandbox rules stay as in jinja2: `range()` longer than 100,000 items is an
// `OverflowError`, attributes starting with `_` and list/dict mutators are a `SecurityError`.
// The process environment is not visible to templates, except SOURCE_DATE_EPOCH for
// `strftime_now` (see `JinjaClock`); there is no file or network access at all.

/// Bounds on the work and memory one render may use. The defaults are far above what real chat
/// templates need (a long conversation takes a few thousand steps).
public struct JinjaLimits: Sendable, Equatable {
    /// Evaluation steps per render (nodes, loop iterations, elements processed by filters).
    public var maxSteps: Int = 20_000_000
    /// Bytes of rendered output.
    public var maxOutputBytes: Int = 64 << 20
    /// Bytes in any one string value.
    public var maxStringBytes: Int = 32 << 20
    /// Elements in any one list, tuple or dict.
    public var maxContainerLength: Int = 1_000_000
    /// Depth of the template's syntax (nested blocks, nested expressions, chains of operators and
    /// filters) and of values nested in values. The real templates need at most 27.
    public var maxNestingDepth: Int = 100
    /// Depth of the interpreter's recursion: nested expressions, statements and macro calls.
    /// With the defaults a render stays within 512 KB of stack in release builds.
    public var maxEvalDepth: Int = 1_500
    /// Nested macro calls (jinja2 itself stops at Python's recursion limit, roughly 200).
    public var maxCallDepth: Int = 200

    public init() {}

    public static let `default` = JinjaLimits()
}

/// The clock `strftime_now` reads.
public struct JinjaClock: Sendable, Equatable {
    /// Seconds since 1970-01-01 UTC, or nil for the current time.
    public var epochSeconds: Int64?
    /// Seconds east of UTC to show the time in. transformers' `strftime_now` uses
    /// `datetime.now()`, the local time; a fixed time (SOURCE_DATE_EPOCH) is shown in UTC.
    public var utcOffsetSeconds: Int?

    public init(epochSeconds: Int64?, utcOffsetSeconds: Int? = 0) {
        self.epochSeconds = epochSeconds
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// A fixed time, shown in UTC (reproducible renders; the fixtures use 1768435200).
    public static func fixed(_ epochSeconds: Int64) -> JinjaClock {
        JinjaClock(epochSeconds: epochSeconds, utcOffsetSeconds: 0)
    }

    /// The current time in the local time zone, as transformers does.
    public static let now = JinjaClock(epochSeconds: nil, utcOffsetSeconds: nil)

    /// SOURCE_DATE_EPOCH from the process environment when it is set to an integer, else `.now`.
    public static func fromEnvironment() -> JinjaClock {
        if let v = environmentValue("SOURCE_DATE_EPOCH"), let s = Int64(v.trimmingWhitespace()) {
            return .fixed(s)
        }
        return .now
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

/// The per-render budget: steps, recursion depth and call depth (see `JinjaLimits`).
struct Budget {
    let limits: JinjaLimits
    var steps = 0
    var evalDepth = 0
    var callDepth = 0

    init(_ limits: JinjaLimits) { self.limits = limits }

    @inline(__always)
    mutating func step(_ n: Int = 1) throws(JinjaError) {
        steps &+= n
        if steps > limits.maxSteps { throw Budget.stepError(limits.maxSteps) }
    }

    /// Charges for building a string of `bytes` bytes and checks its size.
    @inline(__always)
    mutating func string(_ bytes: Int) throws(JinjaError) {
        if bytes > limits.maxStringBytes { throw Budget.stringError(bytes, limits.maxStringBytes) }
        try step(1 &+ bytes >> 4)
    }

    /// Charges for appending `n` bytes to a string that is now `total` bytes long.
    @inline(__always)
    mutating func appended(_ n: Int, total: Int) throws(JinjaError) {
        if total > limits.maxStringBytes { throw Budget.stringError(total, limits.maxStringBytes) }
        try step(1 &+ n >> 4)
    }

    /// Checks the size of a new container of `count` elements and charges for it.
    @inline(__always)
    mutating func container(_ count: Int) throws(JinjaError) {
        if count > limits.maxContainerLength { throw Budget.containerError(count, limits.maxContainerLength) }
        try step(1 &+ count >> 2)
    }

    @inline(__always)
    mutating func enter() throws(JinjaError) {
        evalDepth &+= 1
        if evalDepth > limits.maxEvalDepth { throw Budget.depthError(limits.maxEvalDepth) }
    }

    @inline(__always)
    mutating func leave() { evalDepth &-= 1 }

    static func stepError(_ n: Int) -> JinjaError {
        .limit("the template took more than \(n) evaluation steps (JinjaLimits.maxSteps); it may loop without end")
    }
    static func stringError(_ n: Int, _ max: Int) -> JinjaError {
        .limit("a string of \(n) bytes is longer than JinjaLimits.maxStringBytes (\(max))")
    }
    static func containerError(_ n: Int, _ max: Int) -> JinjaError {
        .limit("a list or dict of \(n) elements is longer than JinjaLimits.maxContainerLength (\(max))")
    }
    static func depthError(_ n: Int) -> JinjaError {
        .limit("the template nests expressions, statements and macro calls more than \(n) deep (JinjaLimits.maxEvalDepth)")
    }
    static func callDepthError(_ n: Int) -> JinjaError {
        .limit("macros call each other more than \(n) deep (JinjaLimits.maxCallDepth); the template may recurse without end")
    }
    static func outputError(_ n: Int) -> JinjaError {
        .limit("the output is longer than JinjaLimits.maxOutputBytes (\(n) bytes)")
    }
    static func nestingError(_ n: Int) -> JinjaError {
        .limit("values are nested more than \(n) deep (JinjaLimits.maxNestingDepth)")
    }
}

// Errors of the template engine.
//
// One public type, `JinjaError`, for every failure: a syntax error while compiling, an error while
// rendering (the Python exception jinja2 would raise: `TypeError`, `UndefinedError`, ...), the
// template's own `raise_exception(msg)`, or a sandbox limit. `pythonType` and `message` are what
// transformers shows as `f"{type(e).__name__}: {e}"`, so a caller can compare with a reference
// render; `templateName`, `line` and `column` say where in the template it happened.

/// A template failed to compile or to render.
///
/// The payload is boxed so that the error is one pointer wide: every `try` in the interpreter's
/// recursion reserves room for a thrown error, and a small error keeps its stack frames small.
public struct JinjaError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The template source is not valid Jinja (or uses a construct finetok does not support).
        case syntax
        /// Rendering failed the way jinja2 would fail (a Python exception such as `TypeError`).
        case evaluation
        /// The template called `raise_exception(message)`.
        case raised
        /// A sandbox limit (`JinjaLimits`) was reached.
        case limit
    }

    final class Storage: @unchecked Sendable {
        var kind: Kind
        var pythonType: String
        var message: String
        var templateName = ""
        var line = 0
        var column = 0
        var offset: Int

        init(kind: Kind, pythonType: String, message: String, offset: Int) {
            self.kind = kind
            self.pythonType = pythonType
            self.message = message
            self.offset = offset
        }

        func copy() -> Storage {
            let s = Storage(kind: kind, pythonType: pythonType, message: message, offset: offset)
            s.templateName = templateName
            s.line = line
            s.column = column
            return s
        }
    }

    private var storage: Storage

    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    public var kind: Kind {
        get { storage.kind }
        set { unique().kind = newValue }
    }
    /// The Python exception jinja2 raises here: `TemplateSyntaxError`, `TemplateAssertionError`,
    /// `TypeError`, `ValueError`, `UndefinedError`, `SecurityError`, `TemplateError` (from
    /// `raise_exception`), ...; `LimitError` for a finetok limit.
    public var pythonType: String {
        get { storage.pythonType }
        set { unique().pythonType = newValue }
    }
    /// The exception's message, as `str(e)` in Python (the template's own text for `raise_exception`).
    public var message: String {
        get { storage.message }
        set { unique().message = newValue }
    }
    /// The template's name (as given to `ChatTemplate(source:name:)`).
    public var templateName: String {
        get { storage.templateName }
        set { unique().templateName = newValue }
    }
    /// 1-based line and column (in characters) of the construct that failed; 0 when unknown.
    public var line: Int {
        get { storage.line }
        set { unique().line = newValue }
    }
    public var column: Int {
        get { storage.column }
        set { unique().column = newValue }
    }
    /// Byte offset in the normalized source; -1 while unknown (filled in by the engine).
    var offset: Int {
        get { storage.offset }
        set { unique().offset = newValue }
    }

    init(_ kind: Kind, _ pythonType: String, _ message: String, offset: Int = -1) {
        storage = Storage(kind: kind, pythonType: pythonType, message: message, offset: offset)
    }

    public static func == (a: JinjaError, b: JinjaError) -> Bool {
        a.kind == b.kind && a.pythonType == b.pythonType && a.message == b.message && a.templateName == b.templateName
            && a.line == b.line && a.column == b.column
    }

    /// `"TypeError: can only concatenate str (not \"dict\") to str"`: the form transformers reports.
    public var pythonDescription: String { "\(pythonType): \(message)" }

    public var description: String {
        let place = line > 0 ? "\(templateName):\(line):\(column)" : templateName
        let what: String
        switch kind {
        case .syntax: what = "syntax error"
        case .evaluation: what = "error"
        case .raised: what = "the template raised an exception"
        case .limit: what = "limit reached"
        }
        return "\(place): \(what): \(pythonDescription)"
    }

    /// This error, placed at `offset` unless it already has a place.
    func at(_ offset: Int) -> JinjaError {
        if self.offset >= 0 { return self }
        var e = self
        e.offset = offset
        return e
    }

    // MARK: The Python exceptions the engine raises

    static func syntax(_ message: String, at offset: Int) -> JinjaError {
        JinjaError(.syntax, "TemplateSyntaxError", message, offset: offset)
    }
    /// jinja2's compile-time checks (unknown filter or test outside an `if`, bad macro signature).
    static func assertion(_ message: String, at offset: Int) -> JinjaError {
        JinjaError(.syntax, "TemplateAssertionError", message, offset: offset)
    }
    static func unsupported(_ what: String, at offset: Int = -1) -> JinjaError {
        JinjaError(.syntax, "TemplateSyntaxError", "\(what) is not supported by finetok's Jinja engine", offset: offset)
    }
    static func typeError(_ message: String) -> JinjaError { JinjaError(.evaluation, "TypeError", message) }
    static func valueError(_ message: String) -> JinjaError { JinjaError(.evaluation, "ValueError", message) }
    static func indexError(_ message: String) -> JinjaError { JinjaError(.evaluation, "IndexError", message) }
    static func keyError(_ message: String) -> JinjaError { JinjaError(.evaluation, "KeyError", message) }
    static func zeroDivision(_ message: String) -> JinjaError { JinjaError(.evaluation, "ZeroDivisionError", message) }
    static func overflow(_ message: String) -> JinjaError { JinjaError(.evaluation, "OverflowError", message) }
    static func attributeError(_ message: String) -> JinjaError { JinjaError(.evaluation, "AttributeError", message) }
    static func runtime(_ message: String) -> JinjaError { JinjaError(.evaluation, "TemplateRuntimeError", message) }
    static func filterArgument(_ message: String) -> JinjaError { JinjaError(.evaluation, "FilterArgumentError", message) }
    static func security(_ message: String) -> JinjaError { JinjaError(.evaluation, "SecurityError", message) }
    static func undefined(_ message: String) -> JinjaError { JinjaError(.evaluation, "UndefinedError", message) }
    static func raised(_ message: String) -> JinjaError { JinjaError(.raised, "TemplateError", message) }
    static func limit(_ message: String) -> JinjaError { JinjaError(.limit, "LimitError", message) }
    /// A Python feature finetok does not implement (a rarely used method or filter).
    static func notImplemented(_ what: String) -> JinjaError {
        JinjaError(.evaluation, "NotImplementedError", "\(what) is not implemented by finetok's Jinja engine")
    }
}

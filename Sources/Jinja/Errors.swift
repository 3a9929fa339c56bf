// Errors of the template engine.
//
// One public type, `JinjaError`, for every failure: a syntax error while compiling, an error while
// rendering (the Python exception jinja2 would raise: `TypeError`, `UndefinedError`, ...), the
// template's own `raise_exception(msg)`, or a sandbox limit. `pythonType` and `message` are what
// transformers shows as `f"{type(e).__name__}: {e}"`, so a caller can compare with a reference
// render; `templateName`, `line` and `column` say where in the template it happened.

/// A template failed to compile or to render.
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

    public var kind: Kind
    /// The Python exception jinja2 raises here: `TemplateSyntaxError`, `TemplateAssertionError`,
    /// `TypeError`, `ValueError`, `UndefinedError`, `SecurityError`, `TemplateError` (from
    /// `raise_exception`), ...; `LimitError` for a finetok limit.
    public var pythonType: String
    /// The exception's message, as `str(e)` in Python (the template's own text for `raise_exception`).
    public var message: String
    /// The template's name (as given to `ChatTemplate(source:name:)`).
    public var templateName: String
    /// 1-based line and column (in characters) of the construct that failed; 0 when unknown.
    public var line: Int
    public var column: Int
    /// Byte offset in the normalized source; -1 while unknown (filled in by the engine).
    var offset: Int

    init(_ kind: Kind, _ pythonType: String, _ message: String, offset: Int = -1) {
        self.kind = kind
        self.pythonType = pythonType
        self.message = message
        self.templateName = ""
        self.line = 0
        self.column = 0
        self.offset = offset
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

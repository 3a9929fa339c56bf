// Errors compiling a regex. A pattern comes from a tokenizer file, so it is untrusted: every
// problem is reported with the byte offset in the pattern and what was wrong, never a crash.

/// A regex that finetok cannot compile: a syntax error, a construct it does not implement, or a
/// pattern past the size limits that keep matching bounded.
public struct RegexError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The pattern is malformed (Oniguruma rejects it too).
        case syntax
        /// A valid Oniguruma construct finetok does not implement (back-references, `\K`, scripts...).
        case unsupported
        /// The pattern is too large once counted repetitions are expanded, or nests too deeply.
        case tooLarge
    }

    public var kind: Kind
    /// Byte offset in the pattern's UTF-8 where the problem is.
    public var offset: Int
    public var message: String

    public init(_ kind: Kind, at offset: Int, _ message: String) {
        self.kind = kind
        self.offset = offset
        self.message = message
    }

    public var description: String {
        let what: String
        switch kind {
        case .syntax: what = "invalid regex"
        case .unsupported: what = "unsupported regex construct"
        case .tooLarge: what = "regex too large"
        }
        return "\(what) at byte \(offset): \(message)"
    }
}

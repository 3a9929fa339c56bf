// The parsed form of a regex: what the parser produces and the compiler consumes.
//
// Case-insensitivity is resolved by the parser: a class under `(?i)` is already closed under
// case folding; a literal keeps a flag, so the compiler can fold runs of literals as strings
// (Oniguruma matches `(?i)ss` against "ß" and `(?i)ß` against "ss").

/// How a quantifier backtracks.
enum QuantifierKind: Sendable, Equatable {
    /// As many as possible, giving back one at a time (`*`, `+`, `?`, `{n,m}`).
    case greedy
    /// As few as possible, taking one more at a time (`*?`, `+?`, `??`, `{n,m}?`).
    case lazy
    /// As many as possible, never giving back (`*+`, `++`, `?+`; Oniguruma's `{n,m}` with n > m).
    case possessive
}

/// Zero-width assertions, as Oniguruma defines them (newline is `\n` only).
enum Anchor: Sendable, Equatable {
    /// `^`: at the start of the text or after `\n`.
    case lineStart
    /// `$`: at the end of the text or before `\n`.
    case lineEnd
    /// `\A`
    case textStart
    /// `\z`
    case textEnd
    /// `\Z`: at the end, or before a `\n` that ends the text.
    case textEndOrFinalNewline
    /// `\b`: between a `\w` scalar and a non-`\w` scalar (or the text's edge).
    case wordBoundary
    /// `\B`
    case notWordBoundary
}

indirect enum RegexNode: Sendable, Equatable {
    /// Matches the empty string.
    case empty
    /// One scalar; `foldCase` under `(?i)`.
    case literal(UInt32, foldCase: Bool)
    /// One scalar of `set`, or else (case-insensitive classes only) one of the `multi` strings,
    /// each given as case-folded scalars (`(?i)[ß]` also matches "ss").
    case set(ScalarSet, multi: [[UInt32]])
    case concat([RegexNode])
    case alternation([RegexNode])
    /// `max` nil = unbounded. `offset` is where the quantifier is in the pattern (for errors).
    case quantified(RegexNode, min: Int, max: Int?, kind: QuantifierKind, offset: Int)
    case anchor(Anchor)
    /// `(?=...)`, `(?!...)`, `(?<=...)`, `(?<!...)`.
    case look(RegexNode, behind: Bool, negated: Bool, offset: Int)
    /// `(?>...)`.
    case atomic(RegexNode)
    /// A capturing group or an option group `(?i:...)`: matches as its body. Kept because
    /// Oniguruma accepts a quantifier on such a group even when its body is an anchor.
    case group(RegexNode)
}

extension RegexNode {
    /// Oniguruma's `is_invalid_quantifier_target`: an anchor or look-around, or an alternation
    /// with such an alternative (`(?:^|a)*` is an error; `(^)*` and `(?:^a)*` are not).
    var isInvalidQuantifierTarget: Bool {
        switch self {
        case .anchor, .look: return true
        case .alternation(let xs): return xs.contains(where: \.isInvalidQuantifierTarget)
        default: return false
        }
    }

    /// True if the node can match the empty string.
    var isNullable: Bool {
        switch self {
        case .empty, .anchor, .look: return true
        case .literal, .set: return false
        case .concat(let xs): return xs.allSatisfy(\.isNullable)
        case .alternation(let xs): return xs.contains(where: \.isNullable)
        case let .quantified(x, min, _, _, _): return min == 0 || x.isNullable
        case .atomic(let x), .group(let x): return x.isNullable
        }
    }
}

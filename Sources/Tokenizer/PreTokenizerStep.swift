// Pre-tokenizer steps: how a normalized text is cut into the words the model encodes.
//
// A tokenizer's steps run in order, each on every piece the previous step made (HF's
// `Sequence`). Empty pieces are dropped, as HF does. The byte-level hot path (one known split
// pattern, then ByteLevel) does not go through this list: see `Tokenizer.encodeSplit`.
//
// Generic splitters plug in through `PieceSplitter`: a step that is told a piece's bytes and
// reports the pieces it cuts it into, as byte ranges. `LiteralSplit` (HF `Split` with a
// `String` pattern) is one; a regex `Split`, `Digits`, `Punctuation` or `Whitespace` is another,
// built on `SplitBehavior.apply` for HF's five ways of keeping the matches.

/// A pre-tokenizer that cuts a piece into smaller pieces without changing its bytes.
protocol PieceSplitter: Sendable {
    /// Calls `body(start, end)` for each piece of `p`, in order (byte offsets into `p`; empty
    /// pieces may be reported and are dropped by the caller).
    /// - Complexity: must be O(n) or O(n log n) in the piece length, whatever the input.
    func split(_ p: UnsafeBufferPointer<UInt8>, _ body: (Int, Int) -> Void)
    /// What `finetok info` prints, e.g. `Split(" ", MergedWithPrevious)`.
    var description: String { get }
}

/// One pre-tokenizer step.
enum PreTokenizerStep: Sendable {
    /// HF `Split` with a regex finetok scans natively (matches are the pieces).
    case split(SplitPattern)
    /// HF `ByteLevel`: optionally a leading space, optionally the GPT-2 split (`use_regex`).
    /// Steps after it see the byte-level characters (`Ġ` for a space), as in HF.
    case byteLevel(addPrefixSpace: Bool, pattern: SplitPattern?)
    /// HF `Metaspace`: spaces become the replacement character, which may be prepended, and
    /// the text may be split before each replacement character.
    case metaspace(Metaspace)
    /// Any splitter that keeps the bytes (HF `Split` with a string pattern, and the regex
    /// engine's pre-tokenizers).
    case splitter(any PieceSplitter)

    var description: String {
        switch self {
        case .split(let p): return "Split(\(p.rawValue) regex)"
        case let .byteLevel(prefix, p):
            return "ByteLevel(add_prefix_space: \(prefix), \(p.map { "\($0.rawValue) regex" } ?? "no regex"))"
        case .metaspace(let m): return m.description
        case .splitter(let s): return s.description
        }
    }
}

/// HF's `SplitDelimiterBehavior`: what happens to the pattern's matches.
enum SplitBehavior: String, Sendable, CaseIterable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    /// HF's `NormalizedString::split`: the text `0..<n` is tiled into the matches (given in order,
    /// non-overlapping) and the gaps between them — with `invert`, gaps count as matches and
    /// matches as gaps — and `body` receives the pieces the behavior keeps, in order.
    ///
    ///     // "a▁b▁▁c", matches of "▁" at 1..<4, 5..<8, 8..<11:
    ///     // Removed → a, b, c    Isolated → a, ▁, b, ▁, ▁, c
    ///     // MergedWithPrevious → a▁, b▁, ▁, c    MergedWithNext → a, ▁b, ▁, ▁c
    ///     // Contiguous → a, ▁, b, ▁▁, c
    /// - Complexity: O(number of matches).
    func apply(length n: Int, matches: [(Int, Int)], invert: Bool, _ body: (Int, Int) -> Void) {
        // The tiling (HF `find_matches`): gaps and matches, in order.
        var spans: [(start: Int, end: Int, isMatch: Bool)] = []
        spans.reserveCapacity(2 * matches.count + 1)
        var previous = 0
        for (s, e) in matches {
            if previous != s { spans.append((previous, s, invert)) }
            spans.append((s, e, !invert))
            previous = e
        }
        if previous != n { spans.append((previous, n, invert)) }

        var pieces: [(start: Int, end: Int)] = []
        pieces.reserveCapacity(spans.count)
        switch self {
        case .isolated:
            for s in spans { pieces.append((s.start, s.end)) }
        case .removed:
            for s in spans where !s.isMatch { pieces.append((s.start, s.end)) }
        case .contiguous:
            var previousMatch = false
            for s in spans {
                if s.isMatch == previousMatch, !pieces.isEmpty { pieces[pieces.count - 1].end = s.end } else { pieces.append((s.start, s.end)) }
                previousMatch = s.isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            for s in spans {
                if s.isMatch && !previousMatch, !pieces.isEmpty { pieces[pieces.count - 1].end = s.end } else { pieces.append((s.start, s.end)) }
                previousMatch = s.isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for s in spans.reversed() {
                if s.isMatch && !previousMatch, !pieces.isEmpty { pieces[pieces.count - 1].start = s.start } else { pieces.append((s.start, s.end)) }
                previousMatch = s.isMatch
            }
            pieces.reverse()
        }
        for piece in pieces { body(piece.start, piece.end) }
    }
}

/// HF `Split` with a `{"String": ...}` pattern: the literal's non-overlapping occurrences, left
/// to right, kept as `behavior` says.
struct LiteralSplit: PieceSplitter {
    let pattern: LiteralPattern
    let behavior: SplitBehavior
    let invert: Bool

    var description: String {
        "Split(\(JSON.quoted(String(decoding: pattern.bytes, as: UTF8.self))), \(behavior.rawValue)\(invert ? ", invert" : ""))"
    }

    /// - Complexity: O(n + m).
    func split(_ p: UnsafeBufferPointer<UInt8>, _ body: (Int, Int) -> Void) {
        var matches: [(Int, Int)] = []
        let m = pattern.count
        pattern.forEachMatch(in: p) { matches.append(($0, $0 + m)) }
        behavior.apply(length: p.count, matches: matches, invert: invert, body)
    }
}

/// HF `Metaspace` (pre-tokenizer): every space becomes `replacement`; `prepend_scheme` puts one
/// before the piece (`always`; `first`: only the piece at the start of the input; `never`)
/// unless it already starts with one; `split` then cuts before each replacement character
/// (HF's `MergedWithNext`).
struct Metaspace: Sendable {
    enum PrependScheme: String, Sendable { case first, always, never }

    let replacement: [UInt8]
    let prependScheme: PrependScheme
    let split: Bool
    private let space = LiteralPattern([0x20])
    private let marker: LiteralPattern

    init(replacement: [UInt8], prependScheme: PrependScheme, split: Bool) {
        self.replacement = replacement
        self.prependScheme = prependScheme
        self.split = split
        marker = LiteralPattern(replacement)
    }

    var description: String {
        "Metaspace(\(JSON.quoted(String(decoding: replacement, as: UTF8.self))), prepend_scheme: \(prependScheme.rawValue), split: \(split))"
    }

    /// Calls `body(piece, atStart)` for each piece of `p`, where `atStart` says whether the piece
    /// begins the input text (only the first piece can).
    func apply(_ p: UnsafeBufferPointer<UInt8>, atStart: Bool, _ body: (UnsafeBufferPointer<UInt8>, Bool) -> Void) {
        var text = Normalizer.replace(p, space, replacement) ?? Array(p)
        let prepend: Bool
        switch prependScheme {
        case .always: prepend = true
        case .first: prepend = atStart
        case .never: prepend = false
        }
        if prepend && !text.starts(with: replacement) { text = replacement + text }
        text.withUnsafeBufferPointer { t in
            guard split else { body(t, atStart); return }
            LiteralSplit(pattern: marker, behavior: .mergedWithNext, invert: false).split(t) { s, e in
                if e > s { body(UnsafeBufferPointer(rebasing: t[s..<e]), atStart && s == 0) }
            }
        }
    }
}

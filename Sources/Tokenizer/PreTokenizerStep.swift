// Pre-tokenizer steps: how a normalized text is cut into the words the model encodes.
//
// A tokenizer's steps run in order, each on every piece the previous step made (HF's
// `Sequence`). Empty pieces are dropped, as HF does. The byte-level hot path (one known split
// pattern, then ByteLevel) does not go through this list: see `Tokenizer.encodeSplit`.
//
// Generic splitters plug in through `PieceSplitter`: a step that is told a piece's bytes and
// reports the pieces it cuts it into, as byte ranges — HF `Split` with a string or any regex,
// `Digits`, `Punctuation`, `Whitespace`... (`GenericSplitter`, PreTokenizerStep+Generic.swift).

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
            // HF's MergedWithNext on the marker: a piece starts at each marker.
            var start = 0
            marker.forEachMatch(in: t) { m in
                if m > start { body(UnsafeBufferPointer(rebasing: t[start..<m]), atStart && start == 0); start = m }
            }
            if t.count > start { body(UnsafeBufferPointer(rebasing: t[start..<t.count]), atStart && start == 0) }
        }
    }
}

// The generic HF pre-tokenizers, each exactly as HF tokenizers 0.23 splits a piece of text:
//
//   Split              a regex (Oniguruma) or a literal string; any behaviour; `invert`
//   Digits             Rust `char::is_numeric`; Isolated (individual_digits) or Contiguous
//   Punctuation        `char::is_ascii_punctuation || unicode_categories::is_punctuation`; any behaviour
//   Whitespace         Rust regex `\w+|[^\w\s]+`, everything else removed
//   WhitespaceSplit    Rust `char::is_whitespace`, removed
//   CharDelimiterSplit one character, removed
//   BertPreTokenizer   WhitespaceSplit, then Punctuation (Isolated) on each piece
//
// (The character sets are HF's own, measured by tools/make_unicode_tables.py.) Each step splits
// the bytes it is given: in a Sequence, later steps split the pieces of earlier ones, so a step
// after ByteLevel must be given the byte-level text (see PreTokenizerSequence).

/// One generic pre-tokenizer step. Immutable and shareable between threads.
struct GenericPreTokenizer: Sendable {
    enum Kind: Sendable {
        case split(RegexProgram, SplitDelimiterBehavior, invert: Bool)
        case digits(individual: Bool)
        case punctuation(SplitDelimiterBehavior)
        case whitespace
        case whitespaceSplit
        case charDelimiter(UInt32)
        case bert
    }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    /// Calls `body(start, end)` for each piece of `text[start..<end]`, in order (byte offsets
    /// into `text`; pieces are never empty). The range is the subject: `^`, `$` and look-arounds
    /// see only it, as HF runs each step on each piece separately.
    /// - Complexity: O(end - start) for the character steps; for Split, the regex's bound (see
    ///   RegexMatcher.swift).
    /// `matcher` must not be in use by an enclosing call (in a sequence, give each step its own);
    /// it is asked for only when a regex search runs.
    func split(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ matcher: @autoclosure () -> RegexMatcher,
               _ body: (Int, Int) -> Void) {
        switch kind {
        case let .split(program, behavior, invert):
            var combiner = SegmentCombiner(behavior)
            if start == end {
                // HF: an empty piece is one unmatched segment.
                combiner.add(start, end, isMatch: invert, body)
                combiner.finish(body)
                return
            }
            if !program.canMatchEmpty {
                // Most pieces hold no byte a match could start with: one unmatched segment.
                let first = program.firstBytes
                var i = start
                while i < end && !first[Int(text[i])] { i += 1 }
                if i == end {
                    combiner.add(start, end, isMatch: invert, body)
                    combiner.finish(body)
                    return
                }
            }
            var prev = start
            matcher().forEachMatch(program, in: UnsafeBufferPointer(rebasing: text[start..<end])) { s, e in
                if prev != start + s { combiner.add(prev, start + s, isMatch: invert, body) }
                combiner.add(start + s, start + e, isMatch: !invert, body)
                prev = start + e
            }
            if prev != end { combiner.add(prev, end, isMatch: invert, body) }
            combiner.finish(body)
        case .digits(let individual):
            GenericPreTokenizer.splitOnScalars(text, start, end, HFCharacterSets.numeric, individual ? .isolated : .contiguous, body)
        case .punctuation(let behavior):
            GenericPreTokenizer.splitOnScalars(text, start, end, HFCharacterSets.punctuation, behavior, body)
        case .whitespaceSplit:
            GenericPreTokenizer.splitOnScalars(text, start, end, HFCharacterSets.whitespace, .removed, body)
        case .charDelimiter(let c):
            GenericPreTokenizer.splitOnScalars(text, start, end, OneScalar(value: c), .removed, body)
        case .whitespace:
            GenericPreTokenizer.wordsAndSymbols(text, start, end, body)
        case .bert:
            GenericPreTokenizer.splitOnScalars(text, start, end, HFCharacterSets.whitespace, .removed) { s, e in
                GenericPreTokenizer.splitOnScalars(text, s, e, HFCharacterSets.punctuation, .isolated, body)
            }
        }
    }

    /// HF's split on a character predicate: each matching scalar is its own matched segment,
    /// the runs between are unmatched segments.
    /// - Complexity: O(end - start).
    @inline(__always)
    static func splitOnScalars<Set: ScalarPredicate>(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ set: Set,
                                                     _ behavior: SplitDelimiterBehavior, _ body: (Int, Int) -> Void) {
        var combiner = SegmentCombiner(behavior)
        if start == end {
            combiner.add(start, end, isMatch: false, body)
            combiner.finish(body)
            return
        }
        var last = start
        var i = start
        while i < end {
            let b = text[i]
            let inSet: Bool
            let n: Int
            if b < 0x80 {
                inSet = set.containsASCII(b)
                n = 1
            } else {
                let (v, len) = decodeScalar(text, i)
                inSet = set.contains(v)
                n = len
            }
            if inSet {
                if last < i { combiner.add(last, i, isMatch: false, body) }
                combiner.add(i, i + n, isMatch: true, body)
                last = i + n
            }
            i += n
        }
        if last < end { combiner.add(last, end, isMatch: false, body) }
        combiner.finish(body)
    }

    /// HF `Whitespace`: the matches of Rust regex `\w+|[^\w\s]+` (maximal runs of word scalars,
    /// and of scalars that are neither word nor space); white space is dropped.
    /// - Complexity: O(end - start).
    static func wordsAndSymbols(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ body: (Int, Int) -> Void) {
        let word = HFCharacterSets.rustWord, space = HFCharacterSets.rustSpace
        var i = start
        var runStart = start
        var runKind = 0  // 0 none, 1 word, 2 symbol
        while i < end {
            let (v, n) = decodeScalar(text, i)
            let kind = word.contains(v) ? 1 : space.contains(v) ? 0 : 2
            if kind != runKind {
                if runKind != 0 { body(runStart, i) }
                runStart = i
                runKind = kind
            }
            i += n
        }
        if runKind != 0 { body(runStart, end) }
    }
}

/// A set of scalars the character steps test membership in.
protocol ScalarPredicate {
    func containsASCII(_ b: UInt8) -> Bool
    func contains(_ v: UInt32) -> Bool
}

extension RegexClass: ScalarPredicate {}

/// `CharDelimiterSplit`'s delimiter.
struct OneScalar: ScalarPredicate {
    let value: UInt32
    @inline(__always) func containsASCII(_ b: UInt8) -> Bool { UInt32(b) == value }
    @inline(__always) func contains(_ v: UInt32) -> Bool { v == value }
}

/// HF's character sets, as bitmaps (see UnicodeTables.swift for where they come from).
enum HFCharacterSets {
    /// Rust `char::is_numeric` (`Digits`).
    static let numeric = RegexClass(UnicodeTables.set("hf:numeric"))
    /// `char::is_ascii_punctuation || unicode_categories::is_punctuation` (`Punctuation`, Bert).
    static let punctuation = RegexClass(UnicodeTables.set("hf:punctuation"))
    /// Rust `char::is_whitespace` (`WhitespaceSplit`, Bert).
    static let whitespace = RegexClass(UnicodeTables.set("hf:whitespace"))
    /// Rust regex `\w` and `\s` (`Whitespace`).
    static let rustWord = RegexClass(UnicodeTables.set("rx:word"))
    static let rustSpace = RegexClass(UnicodeTables.set("rx:space"))
}

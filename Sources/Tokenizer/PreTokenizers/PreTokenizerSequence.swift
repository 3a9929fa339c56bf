// Where this is used: encoding runs the pipeline of Tokenizer.swift (`preTokenize`), which wraps
// each generic step as a `PieceSplitter` (PreTokenizerStep+Generic.swift). This type is the
// piece-level view of the same steps — original byte offsets of every piece — that
// PreTokenizerParityTests compares with HF's `pre_tokenize_str` case by case; `scanner(for:)`
// is shared by both. (Folding the two into one pipeline is open work.)
//
// A whole HF pre-tokenizer pipeline: the steps of a `Sequence` in order, each splitting the
// pieces of the one before (HF's PreTokenizedString::split); the final pieces go to a callback.
//
// ByteLevel in the middle (falcon: Punctuation, ByteLevel, Digits, Split): HF's ByteLevel first
// splits with the GPT-2 regex (`use_regex`), then rewrites each piece as byte-level characters
// (one character per byte: `Ġ` for a space, `Ã©` for "é"), and every later step sees those
// characters. So after a ByteLevel step the text is rewritten into a scratch buffer with tables
// between its offsets and the original bytes, the later steps run on it (each piece is still
// its own subject), and the pieces they produce are mapped back: a piece is then a range of
// original bytes, which may cut a UTF-8 sequence (Digits isolates the byte 0xB2, written `²`),
// as it does in HF. A ByteLevel step that is last only splits (the model maps the bytes itself).
//
// The steps run level by level over a list of pieces (two lists reused from the scratch), so
// each step's setup is paid once per call, not once per piece.
//
// Steps whose Split regex is one of finetok's hand-written scanners (SplitPattern) use the
// scanner, except cl100k's possessive spelling, whose meaning under Oniguruma differs from the
// scanner's (see `scanner(for:)`).

/// A sequence of pre-tokenizer steps, as a tokenizer.json `pre_tokenizer` describes it.
struct PreTokenizerSequence: Sendable {
    enum Step: Sendable {
        /// A generic step (Split, Digits, Punctuation, Whitespace...).
        case generic(GenericPreTokenizer)
        /// A Split whose regex has a hand-written scanner: the scanner's pieces are the matches
        /// (they tile the text), combined under `behavior` / `invert`.
        case scanner(SplitPattern, SplitDelimiterBehavior, invert: Bool)
        /// HF ByteLevel (without `add_prefix_space`): the GPT-2 split when `useRegex`, then the
        /// byte-level rewrite seen by the steps after it.
        case byteLevel(useRegex: Bool)
    }

    let steps: [Step]

    init(steps: [Step]) { self.steps = steps }

    /// Scratch for one thread: a regex matcher per step, the piece lists of two levels, and
    /// the byte-level buffers. Reused across calls, so a call allocates nothing once warm.
    final class Scratch {
        fileprivate var matchers: [RegexMatcher] = []
        fileprivate var current: [Int] = []
        fileprivate var next: [Int] = []
        fileprivate var mapped: [UInt8] = []
        /// Original byte offset of each mapped byte offset that starts a character, and of the end.
        fileprivate var origin: [Int] = []
        /// Mapped offset of each original byte offset (and of the end).
        fileprivate var forward: [Int] = []

        init() {}
    }

    /// Calls `body(start, end)` with each final piece of `text[start..<end]` as original byte
    /// offsets, in order.
    /// - Complexity: the sum of the steps' costs; linear in the text for the generic steps and
    ///   the scanners, the regex bound for Split (RegexMatcher.swift). Memory: two lists of the
    ///   pieces of one level.
    func split(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ scratch: Scratch,
               _ body: (Int, Int) -> Void) {
        while scratch.matchers.count < steps.count { scratch.matchers.append(RegexMatcher()) }
        // Level by level: each step splits every piece of the level before. The lists are held
        // in locals while in use (no exclusivity checks) and handed back after.
        var current = scratch.current
        var next = scratch.next
        scratch.current = []
        scratch.next = []
        defer {
            current.removeAll(keepingCapacity: true)
            next.removeAll(keepingCapacity: true)
            scratch.current = current
            scratch.next = next
        }
        current.removeAll(keepingCapacity: true)
        current.append(start)
        current.append(end)
        var k = 0
        while k < steps.count {
            if case .byteLevel(let useRegex) = steps[k] {
                if useRegex {
                    next.removeAll(keepingCapacity: true)
                    for i in stride(from: 0, to: current.count, by: 2) {
                        SplitPattern.gpt2.split(text, current[i], current[i + 1]) { s, e in next.append(s); next.append(e) }
                    }
                    swap(&current, &next)
                }
                k += 1
                if k == steps.count { break }
                // Later steps see byte-level characters: map the text once, run them on it, map
                // the pieces back.
                mapToByteLevel(text, start, end, scratch)
                let mapped = scratch.mapped, origin = scratch.origin, forward = scratch.forward
                for i in current.indices { current[i] = forward[current[i] - start] }
                mapped.withUnsafeBufferPointer { m in
                    runSteps(from: k, m, &current, &next, scratch)
                }
                for i in stride(from: 0, to: current.count, by: 2) { body(origin[current[i]], origin[current[i + 1]]) }
                return
            }
            runStep(k, text, &current, &next, scratch)
            k += 1
        }
        for i in stride(from: 0, to: current.count, by: 2) { body(current[i], current[i + 1]) }
    }

    private func runSteps(from k0: Int, _ text: UnsafeBufferPointer<UInt8>, _ current: inout [Int], _ next: inout [Int], _ scratch: Scratch) {
        for k in k0..<steps.count { runStep(k, text, &current, &next, scratch) }
    }

    /// Splits every piece in `current` with step `k`; the pieces end up in `current`.
    private func runStep(_ k: Int, _ text: UnsafeBufferPointer<UInt8>, _ current: inout [Int], _ next: inout [Int], _ scratch: Scratch) {
        next.removeAll(keepingCapacity: true)
        switch steps[k] {
        case .generic(let step):
            let matcher = scratch.matchers[k]
            for i in stride(from: 0, to: current.count, by: 2) {
                step.split(text, current[i], current[i + 1], matcher) { s, e in next.append(s); next.append(e) }
            }
        case let .scanner(pattern, behavior, invert):
            for i in stride(from: 0, to: current.count, by: 2) {
                var combiner = SegmentCombiner(behavior)
                pattern.split(text, current[i], current[i + 1]) { s, e in
                    combiner.add(s, e, isMatch: !invert) { s, e in next.append(s); next.append(e) }
                }
                combiner.finish { s, e in next.append(s); next.append(e) }
            }
        case .byteLevel:
            preconditionFailure("one ByteLevel step per sequence (checked when building)")
        }
        swap(&current, &next)
    }

    /// Writes `text[s..<e]` as byte-level characters into `scratch.mapped`, with
    /// `scratch.origin` mapping each character's offset (and the end) back to `text` and
    /// `scratch.forward` mapping each original offset (relative to `s`) to the mapped one.
    private func mapToByteLevel(_ text: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, _ scratch: Scratch) {
        // Work on locals (a class's stored arrays pay an exclusivity check per access).
        var mapped = scratch.mapped, origin = scratch.origin, forward = scratch.forward
        scratch.mapped = []
        scratch.origin = []
        scratch.forward = []
        mapped.removeAll(keepingCapacity: true)
        origin.removeAll(keepingCapacity: true)
        forward.removeAll(keepingCapacity: true)
        mapped.reserveCapacity(2 * (e - s))
        origin.reserveCapacity(2 * (e - s) + 1)
        forward.reserveCapacity(e - s + 1)
        ByteLevel.byteToScalar.withUnsafeBufferPointer { table in
            for i in s..<e {
                let v = table[Int(text[i])]
                forward.append(mapped.count)
                origin.append(i)
                if v < 0x80 {
                    mapped.append(UInt8(v))
                } else {
                    origin.append(i)
                    mapped.append(UInt8(0xC0 | v >> 6))
                    mapped.append(UInt8(0x80 | v & 0x3F))
                }
            }
        }
        forward.append(mapped.count)
        origin.append(e)
        scratch.mapped = mapped
        scratch.origin = origin
        scratch.forward = forward
    }

    /// The scanner for a Split regex, if finetok has one that gives Oniguruma's pieces. Not for
    /// cl100k's possessive spelling (tiktoken's `pat_str`): Oniguruma reads its `\p{N}{1,3}+` as
    /// `{1,3}` repeated, and its `\s++$` takes trailing white space through newlines (" \n " is
    /// one piece, where the scanner, which follows the classic spelling, gives " \n", " ").
    static func scanner(for regex: String) -> SplitPattern? {
        if hasIntervalThenPlus(regex) || regex.contains("$") { return nil }
        return SplitPattern.recognize(regex: regex)
    }

    /// True if the regex has `{n}`, `{n,}` or `{n,m}` followed by `+`.
    static func hasIntervalThenPlus(_ regex: String) -> Bool {
        let b = Array(regex.utf8)
        var i = 0
        while i + 1 < b.count {
            if b[i] == UInt8(ascii: "}") && b[i + 1] == UInt8(ascii: "+") {
                var j = i - 1
                var digits = 0
                while j >= 0, (b[j] >= 0x30 && b[j] <= 0x39) || b[j] == UInt8(ascii: ",") {
                    if b[j] != UInt8(ascii: ",") { digits += 1 }
                    j -= 1
                }
                if j >= 0 && b[j] == UInt8(ascii: "{") && digits > 0 && !(j > 0 && b[j - 1] == UInt8(ascii: "\\")) { return true }
            }
            i += 1
        }
        return false
    }
}

extension PreTokenizerSequence {
    /// The pipeline a tokenizer.json `pre_tokenizer` value describes (null: no steps).
    /// Handles Sequence (flattened), ByteLevel (without `add_prefix_space`, at most once), Split
    /// (a scanner when one fits, else the regex engine) and the generic steps.
    /// - Throws: `PreTokenizerJSONError` with the JSON path of what is wrong or unsupported.
    static func fromJSON(_ v: JSONValue, at path: String = "pre_tokenizer") throws(PreTokenizerJSONError) -> PreTokenizerSequence {
        var steps: [Step] = []
        try collect(v, path, &steps)
        if steps.filter({ if case .byteLevel = $0 { return true }; return false }).count > 1 {
            throw PreTokenizerJSONError(jsonPath: path, message: "more than one ByteLevel step is not supported", unsupported: true)
        }
        return PreTokenizerSequence(steps: steps)
    }

    private static func collect(_ v: JSONValue, _ path: String, _ steps: inout [Step]) throws(PreTokenizerJSONError) {
        if v.isNull { return }
        switch v["type"]?.stringValue {
        case "Sequence":
            guard let list = v["pretokenizers"]?.arrayValue else {
                throw PreTokenizerJSONError(jsonPath: "\(path).pretokenizers", message: "Sequence needs \"pretokenizers\", an array")
            }
            for (i, p) in list.enumerated() { try collect(p, "\(path).pretokenizers[\(i)]", &steps) }
        case "ByteLevel":
            if v["add_prefix_space"]?.boolValue == true {
                throw PreTokenizerJSONError(jsonPath: "\(path).add_prefix_space", message: "ByteLevel with add_prefix_space inside a sequence is not supported", unsupported: true)
            }
            steps.append(.byteLevel(useRegex: v["use_regex"]?.boolValue ?? true))
        case "Split":
            if let regex = v["pattern"]?["Regex"]?.stringValue, let scanner = scanner(for: regex),
               let b = v["behavior"]?.stringValue.flatMap(SplitDelimiterBehavior.init(rawValue:)),
               let invert = v["invert"]?.boolValue {
                steps.append(.scanner(scanner, b, invert: invert))
                return
            }
            fallthrough
        default:
            guard let step = try GenericPreTokenizer.fromJSON(v, at: path) else {
                throw PreTokenizerJSONError(jsonPath: "\(path).type", message: "pre-tokenizer \(v["type"]?.stringValue.map(JSON.quoted) ?? "?") is not supported", unsupported: true)
            }
            steps.append(.generic(step))
        }
    }
}

// The pre-tokenizers finetok has no hand-written scanner for: a `Split` whose regex is not one of
// the known families (or whose behaviour the scanners do not cover), `Digits`, `Punctuation`,
// `Whitespace`, `WhitespaceSplit`, `CharDelimiterSplit`, `BertPreTokenizer`. Each is read by
// `GenericPreTokenizer.fromJSON` (PreTokenizers/) and runs through the regex engine (Regex/) or a
// character-class scan, wrapped here as a `PieceSplitter` so the pipeline runs it like any other
// step — after a ByteLevel step on the byte-level characters, as HF does (falcon's Punctuation,
// ByteLevel, Digits, Split).

extension Tokenizer {
    /// A splitter for the pre-tokenizer `v` (at JSON path `jp`), or nil when it is not one of the
    /// generic types. A regex finetok cannot compile, or a missing or bad field, is refused with
    /// its JSON path and the reason.
    static func genericSplitter(_ v: JSONValue, at jp: String, _ unsupported: Refusal) throws(TokenizerError) -> (any PieceSplitter)? {
        do {
            guard let step = try GenericPreTokenizer.fromJSON(v, at: jp) else { return nil }
            return GenericSplitter(step: step, json: v)
        } catch {
            throw unsupported(error.jsonPath, error.message)
        }
    }
}

/// A generic pre-tokenizer as a pipeline step. Immutable; a regex search takes a matcher of its
/// own (three small allocations), since a step may run on several threads at once. Character
/// steps, and pieces holding no byte a match could start with, make none.
struct GenericSplitter: PieceSplitter {
    let step: GenericPreTokenizer
    let description: String

    init(step: GenericPreTokenizer, json v: JSONValue) {
        self.step = step
        let type = v["type"]?.stringValue ?? "?"
        switch type {
        case "Split":
            let pattern = v["pattern"]?["Regex"]?.stringValue.map { "regex " + JSON.quoted($0) }
                ?? JSON.quoted(v["pattern"]?["String"]?.stringValue ?? "")
            let invert = v["invert"]?.boolValue == true ? ", invert" : ""
            self.description = "Split(\(pattern), \(v["behavior"]?.stringValue ?? "?")\(invert))"
        case "Digits":
            self.description = "Digits(\(v["individual_digits"]?.boolValue == true ? "individual" : "contiguous"))"
        case "Punctuation":
            self.description = "Punctuation(\(v["behavior"]?.stringValue ?? "Isolated"))"
        case "CharDelimiterSplit":
            self.description = "CharDelimiterSplit(\(JSON.quoted(v["delimiter"]?.stringValue ?? "")))"
        default:
            self.description = type
        }
    }

    /// - Complexity: linear for the character steps; the regex engine's bound for Split
    ///   (RegexMatcher.swift).
    func split(_ p: UnsafeBufferPointer<UInt8>, _ body: (Int, Int) -> Void) {
        step.split(p, 0, p.count, RegexMatcher(), body)
    }
}

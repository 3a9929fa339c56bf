// The hook for pre-tokenizers finetok has no native scanner for: a `Split` whose regex is not one
// of the known families, `Digits`, `Punctuation`, `Whitespace`, `WhitespaceSplit`, ... Each becomes
// a `PieceSplitter` (PreTokenizerStep.swift) built from its JSON; the pipeline runs it like any
// other step, after a ByteLevel step on the byte-level characters, as HF does (falcon's
// Punctuation, ByteLevel, Digits, Split).

extension Tokenizer {
    /// A splitter for the pre-tokenizer `v` (at JSON path `jp`), or nil when finetok has none.
    /// The regex engine plugs in here; until then every such pre-tokenizer is refused by the caller.
    static func genericSplitter(_ v: JSONValue, at jp: String) throws(TokenizerError) -> (any PieceSplitter)? {
        nil
    }
}

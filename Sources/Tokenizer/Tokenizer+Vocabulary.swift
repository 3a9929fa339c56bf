// Decoding ids → text, and the vocabulary questions the builder and the CLI ask (token ids of
// names, byte counts, the special tokens a model folder names, the pipeline for `finetok info`).

extension Tokenizer {
    // MARK: Decoding

    /// The UTF-8 bytes of the decoded text (for byte-level tokenizers, the tokens' bytes joined,
    /// which may be invalid UTF-8; otherwise the decoder's text).
    /// - Throws: `TokenizerError.unknownId` for an id outside the vocabulary.
    public func decodeBytes(_ ids: [UInt32], skipSpecialTokens: Bool = false) throws(TokenizerError) -> [UInt8] {
        for id in ids where addedById[id] == nil && !(Int(id) < model.tokens.count && model.tokens.present[Int(id)]) {
            throw .unknownId(Int(id), vocabularySize: vocabularySize)
        }
        switch decodeMode {
        case .bytes:
            var out: [UInt8] = []
            out.reserveCapacity(ids.count * 4)
            for id in ids {
                if let added = addedById[id] {
                    if skipSpecialTokens && added.token.special { continue }
                    out.append(contentsOf: added.bytes)
                } else {
                    let r = model.tokens.range(Int(id))
                    out.append(contentsOf: UnsafeBufferPointer(start: model.tokens.bytes + r.lowerBound, count: r.count))
                }
            }
            return out
        case .chain(let decoder):
            // HF: the added vocabulary's string, else the model's; special tokens skipped by
            // their string.
            let specials = Set(addedTokens.filter(\.special).map(\.content))
            var tokens: [String] = []
            tokens.reserveCapacity(ids.count)
            for id in ids {
                let token = tokenString(id)
                if skipSpecialTokens && specials.contains(token) { continue }
                tokens.append(token)
            }
            return Array(decoder.decode(tokens).utf8)
        case .sentencePiece(let decoder):
            return decoder.decode(ids, tokens: model.tokens) { id in
                skipSpecialTokens && (addedById[id]?.token.special ?? false)
            }
        }
    }

    /// The string of a token as the tokenizer file writes it (an added token's content; a
    /// byte-level token in the GPT-2 alphabet).
    func tokenString(_ id: UInt32) -> String {
        if let added = addedById[id] { return added.string }
        guard Int(id) < model.tokens.count, model.tokens.present[Int(id)] else { return "" }
        let bytes = model.tokens.tokenBytes(Int(id))
        if case .byteLevel = kind { return String(decoding: bytes.withUnsafeBufferPointer { ByteLevel.encode($0) }, as: UTF8.self) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Decodes ids to text; invalid UTF-8 becomes U+FFFD, as in HF `tokenizers`.
    ///
    ///     gpt2.decode([15496, 995])  // "Hello world"
    ///
    /// - Throws: `TokenizerError.unknownId` for an id outside the vocabulary.
    public func decode(_ ids: [UInt32], skipSpecialTokens: Bool = false) throws(TokenizerError) -> String {
        String(decoding: try decodeBytes(ids, skipSpecialTokens: skipSpecialTokens), as: UTF8.self)
    }

    // MARK: Vocabulary

    /// How many bytes of normalized text `id` stands for (0 for an unknown id; 1 for a
    /// `<0xXX>` byte-fallback token of a character-level model).
    public func tokenByteCount(_ id: UInt32) -> Int {
        if let added = addedById[id] { return added.bytes.count }
        guard Int(id) < model.tokens.count, model.tokens.present[Int(id)] else { return 0 }
        if let fb = model.byteFallbackIds, model.characters != nil, fb.contains(id) { return 1 }
        return model.tokens.range(Int(id)).count
    }

    /// The UTF-8 length of `text` after the tokenizer's normalizer (NFC for pythia).
    public func normalizedByteCount(_ text: String) -> Int {
        var text = text
        return text.withUTF8 { normalizedByteCount(utf8: $0) }
    }

    /// The length of UTF-8 `bytes` after the tokenizer's normalizer.
    public func normalizedByteCount(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Int {
        normalizer.apply(bytes)?.count ?? bytes.count
    }

    /// The id of a token given as text: an added token's content, or a model token's bytes.
    public func tokenId(_ text: String) -> UInt32? {
        if let t = addedTokens.last(where: { $0.content == text }) { return t.id }
        let bytes = Array(text.utf8)
        let id = bytes.withUnsafeBufferPointer { p -> UInt32 in
            guard let base = p.baseAddress else { return BytesToId.empty }
            return model.lookup.get(base, p.count)
        }
        return id == BytesToId.empty ? nil : id
    }

    /// Whether encoding `prompt + completion` is known to give `encode(prompt) + encode(completion)`
    /// without encoding it: the prompt ends with a newline after a non-space character, the
    /// completion starts with a letter or digit that NFC leaves alone, and no added token that
    /// is matched contains a newline or strips/needs word boundaries. Then every split pattern
    /// ends a piece at the newline and starts a fresh one at the completion (`\r\n` never serve as
    /// a prefix, and nothing looks past the newline), added tokens cannot span or absorb the
    /// boundary, and normalization cannot compose across it. False means "unknown" (always for
    /// character-level and SentencePiece models, which put "▁" before every text).
    public func splitsCleanly(prompt: String, completion: String) -> Bool {
        var prompt = prompt, completion = completion
        return prompt.withUTF8 { p in completion.withUTF8 { c in splitsCleanly(prompt: p, completion: c) } }
    }

    /// `splitsCleanly` of a prompt and completion given as valid UTF-8.
    public func splitsCleanly(prompt p: UnsafeBufferPointer<UInt8>, completion: UnsafeBufferPointer<UInt8>) -> Bool {
        guard cleanBoundaryPossible else { return false }
        guard let last = p.last, last == 0x0A else { return false }
        if p.count >= 2 {
            let before = p[p.count - 2]
            // Any byte of a multi-byte scalar is not white space except U+0085 (C2 85) and the
            // like; treat every non-ASCII byte as unknown.
            if before >= 0x80 || before == 0x20 || (0x09...0x0D).contains(before) { return false }
        }
        var bytes = completion.makeIterator()
        var decoder = UTF8()
        guard case .scalarValue(let first) = decoder.decode(&bytes) else { return false }
        let c = UnicodeClasses.of(first.value)
        return (c.contains(.letter) || c.contains(.number)) && Normalizer.isStable(first.value)
    }


    /// Whether `id` is a special token (skipped by `decode(skipSpecialTokens: true)`).
    public func isSpecial(_ id: UInt32) -> Bool { addedById[id]?.token.special ?? false }

    /// The end-of-text token: the model folder's `eos_token` when its config names one, else
    /// the first of `<|endoftext|>`, `<|end_of_text|>`, `</s>`, `<eos>`, `<|im_end|>` that the
    /// tokenizer has.
    public var eosTokenId: UInt32? {
        if let name = config?.eosToken { return tokenId(name) }
        for name in ["<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>", "<|im_end|>"] {
            if let id = tokenId(name) { return id }
        }
        return nil
    }

    /// The padding token: the model folder's `pad_token` when its config has the key (null:
    /// none), else `<|padding|>`, `<|pad|>`, `<pad>` or `[PAD]` if the tokenizer has one.
    public var padTokenId: UInt32? {
        if let config, config.hasPadTokenKey { return config.padToken.flatMap(tokenId) }
        for name in ["<|padding|>", "<|pad|>", "<pad>", "[PAD]"] {
            if let id = tokenId(name) { return id }
        }
        return nil
    }

    /// Whether every text encoded on its own starts with a space marker the tokenizer adds
    /// ("▁" from a Prepend normalizer, Metaspace or a SentencePiece dummy prefix; a ByteLevel
    /// prefix space): a completion encoded alone then differs from the same text after its prompt.
    public var addsPrefixToEveryText: Bool {
        let normalizerPrefix = normalizer.steps.contains { step in
            switch step {
            case .prepend: return true
            case .sentencePiece(let n): return n.addDummyPrefix
            default: return false
            }
        }
        let stepPrefix = steps.contains { step in
            switch step {
            case .metaspace(let m): return m.prependScheme != .never
            case .byteLevel(let prefix, _): return prefix
            default: return false
            }
        }
        return normalizerPrefix || stepPrefix
    }

    /// How many ids the model's own vocabulary has (without added tokens beyond it).
    public var modelVocabularySize: Int { model.tokens.count }

    /// The ids transformers puts before a plain text (`tokenizer(text)`): BOS for Llama, Phi-3,
    /// Gemma; nothing for GPT-2 or Qwen. `build` adds them once per example, before the prompt.
    public var bosTokenIds: [UInt32] { postPrefix }

    /// The pipeline, one line per stage, for `finetok info`: kind, normalizer, pre-tokenizer,
    /// model, post-processor, decoder.
    public var pipelineDescription: [(stage: String, value: String)] {
        var lines: [(String, String)] = []
        let kindName: String
        switch kind {
        case .byteLevel: kindName = "byte-level BPE"
        case .characters: kindName = "SentencePiece-style BPE over characters (HF tokenizers)"
        case .sentencePiece: kindName = "SentencePiece BPE (the sentencepiece library)"
        }
        lines.append(("kind", "\(kindName), from \(format.rawValue)"))
        lines.append(("normalizer", normalizer.description))
        let oneWord = matchesAddedTokens && !addedTokens.isEmpty ? "none (each text between added tokens is one word)" : "none (the whole text is one word)"
        lines.append(("pre-tokenizer", steps.isEmpty ? oneWord : steps.map(\.description).joined(separator: ", ")))
        var m: [String] = []
        switch kind {
        case .sentencePiece(let spm):
            m.append("\(model.tokens.count) pieces, merged by score")
            if spm.needsReference { m.append("exact step-by-step merge (UNUSED pieces or pieces with unknown characters)") }
        default:
            m.append("\(model.pairs.count) merges")
            if model.wholePieceFirst { m.append("ignore_merges") }
            if case .byteLevel = kind {
                m.append(model.backtrack?.tables != nil ? "merged by the backtracking encoder"
                                                : "merged by the heap (the merge list fails the backtracking encoder's checks)")
            }
        }
        if model.byteFallbackIds != nil { m.append("byte_fallback") }
        if let unk = model.unkId { m.append("unk \(JSON.quoted(tokenString(unk))) = \(unk)\(model.fuseUnk ? ", fused" : "")") }
        if let chars = model.characters {
            if !chars.prefix.isEmpty { m.append("continuing_subword_prefix \(JSON.quoted(String(decoding: chars.prefix, as: UTF8.self)))") }
            if !chars.suffix.isEmpty { m.append("end_of_word_suffix \(JSON.quoted(String(decoding: chars.suffix, as: UTF8.self)))") }
        }
        if cut != nil { m.append("words cut before \"▁\" where no merge crosses") }
        lines.append(("model", m.joined(separator: "; ")))
        lines.append(("post-processor", postProcessorDescription))
        switch decodeMode {
        case .bytes: lines.append(("decoder", format == .tiktoken ? "token bytes joined" : "ByteLevel"))
        case .chain(let d): lines.append(("decoder", d.description))
        case .sentencePiece: lines.append(("decoder", "sentencepiece (▁ → space, leading ▁ dropped, byte pieces joined)"))
        }
        return lines
    }
}

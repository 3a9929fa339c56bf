// The front end: one `Tokenizer` whatever file it was loaded from. Encoding runs the pipeline
// stages in order, as HF `tokenizers` names them:
//
//   added tokens (raw text) → normalizer → added tokens (normalized text) → pre-tokenizer
//   (PreTokenizerStep.swift) → model → [post-processor when asked]
//
// The model is one of three kinds, decided once at load (`ModelKind`): byte-level BPE (GPT-2,
// Llama 3, Qwen: BPEMerge.swift), character-level BPE (a tokenizer.json without ByteLevel —
// Llama 2, Phi-3, Gemma: BPEModel+Characters.swift) or SentencePiece BPE (a `tokenizer.model`:
// SentencePiece/). The last two cut long words where no merge can cross (MetaspaceCut.swift).
//
// Everything works on UTF-8 bytes and `UInt32` ids; no `String` is made per token.

import Foundation

/// How the model turns a word into ids, decided once at load.
enum ModelKind: Sendable {
    /// Symbols start as bytes; token strings are written in the GPT-2 byte alphabet.
    case byteLevel
    /// Symbols start as characters (HF BPE without a ByteLevel pre-tokenizer).
    case characters
    /// sentencepiece's BPE on a `tokenizer.model`.
    case sentencePiece(SentencePieceBPE)
}

/// How ids become text, decided once at load.
enum DecodeMode: Sendable {
    /// Token bytes joined (the ByteLevel decoder on a byte-level vocabulary; tiktoken).
    case bytes
    /// A tokenizer.json decoder chain over the token strings.
    case chain(Decoder)
    /// sentencepiece's `DecodeIds`.
    case sentencePiece(SentencePieceDecoder)
}

/// A BPE tokenizer loaded from `vocab.json` + `merges.txt`, an HF `tokenizer.json`, a
/// SentencePiece `tokenizer.model` or a tiktoken rank file. Immutable and safe to share between
/// threads.
public final class Tokenizer: Sendable {
    /// Which kind of file the tokenizer came from; it decides the reference behaviour.
    public enum Format: String, Sendable {
        /// GPT-2 style `vocab.json` + `merges.txt` (HF `tokenizers` BPE with a ByteLevel pre-tokenizer).
        case vocabMerges = "vocab.json+merges.txt"
        /// HF `tokenizer.json`.
        case tokenizerJSON = "tokenizer.json"
        /// SentencePiece `tokenizer.model` (the `sentencepiece` library's `encode`).
        case sentencePiece = "tokenizer.model"
        /// tiktoken `base64 rank` file.
        case tiktoken
    }

    public let format: Format
    /// The file(s) the tokenizer was loaded from.
    public let paths: [String]
    /// One past the highest id (model and added tokens).
    public let vocabularySize: Int
    /// Added and special tokens (tokenizer.json `added_tokens`, a tiktoken encoding's specials,
    /// `<|...|>` entries of a vocab.json, a tokenizer.model's CONTROL, UNKNOWN and USER_DEFINED
    /// pieces).
    public let addedTokens: [AddedToken]
    /// The model folder's tokenizer_config.json settings, when loaded from a folder that has one.
    public let config: TokenizerConfig?

    let model: BPEModel
    let kind: ModelKind
    let normalizer: Normalizer
    let steps: [PreTokenizerStep]
    /// Set when the pre-tokenizer is a single split pattern on a byte-level model (the fast path).
    let singlePattern: SplitPattern?
    /// Where words of a character-level or SentencePiece model may be cut.
    let cut: MetaspaceCut?
    let decodeMode: DecodeMode
    /// Whether added tokens are found in the text (tokenizer.json always; other formats with
    /// `allowSpecial`).
    let matchesAddedTokens: Bool
    let rawMatcher: TokenMatcher
    let normalizedMatcher: TokenMatcher
    /// Added tokens by id, with the bytes they decode to and the string HF's `id_to_token` gives
    /// (a normalized token's normalized form).
    let addedById: [UInt32: (token: AddedToken, bytes: [UInt8], string: String)]
    /// Whether `splitsCleanly` can ever say yes: a byte-level model, no prefix space is added to
    /// pieces, and no matched added token contains a newline or strips / needs word boundaries.
    let cleanBoundaryPossible: Bool
    /// Contexts reused by `encode(_:)`, so a call does not allocate a piece cache (~2 MB).
    let contexts = ContextPool()
    /// Ids put around the text when special tokens are requested (see `specialTokensAround`).
    let postPrefix: [UInt32]
    let postSuffix: [UInt32]
    /// What the tokenizer.json post-processor says (for `finetok info`).
    let postProcessorDescription: String

    init(format: Format, paths: [String], model: BPEModel, kind: ModelKind = .byteLevel, normalizer: Normalizer,
         steps: [PreTokenizerStep], cut: MetaspaceCut? = nil, decodeMode: DecodeMode = .bytes,
         addedTokens: [AddedToken], matchesAddedTokens: Bool, postPrefix: [UInt32] = [], postSuffix: [UInt32] = [],
         postProcessorDescription: String = "none", config: TokenizerConfig? = nil) {
        self.format = format
        self.paths = paths
        self.model = model
        self.kind = kind
        self.normalizer = normalizer
        self.steps = steps
        self.cut = cut
        self.decodeMode = decodeMode
        self.addedTokens = addedTokens
        self.matchesAddedTokens = matchesAddedTokens
        self.config = config
        self.postProcessorDescription = postProcessorDescription
        var isByteLevel = false
        if case .byteLevel = kind { isByteLevel = true }
        var single: SplitPattern?
        if isByteLevel {
            if steps.count == 1, case .split(let p) = steps[0] { single = p }
            if steps.count == 1, case .byteLevel(false, let p?) = steps[0] { single = p }
            if steps.count == 2, case .split(let p) = steps[0], case .byteLevel(false, nil) = steps[1] { single = p }
        }
        singlePattern = single
        var byId: [UInt32: (token: AddedToken, bytes: [UInt8], string: String)] = [:]
        var raw: [(bytes: [UInt8], token: AddedToken)] = []
        var normalizedTokens: [(bytes: [UInt8], token: AddedToken)] = []
        for t in addedTokens {
            // HF keeps a normalized token's normalized form: it is what is matched in normalized
            // text and what `decode` shows.
            var content = Array(t.content.utf8)
            if t.normalized, let n = content.withUnsafeBufferPointer({ normalizer.apply($0) }) { content = n }
            // HF decodes an added token through the ByteLevel decoder, which falls back to the
            // content's own UTF-8 when a character is outside the byte alphabet.
            let string = String(decoding: content, as: UTF8.self)
            let decoded = format == .tiktoken || !isByteLevel ? content : (ByteLevel.decode(string) ?? content)
            byId[t.id] = (t, decoded, string)
            if t.normalized {
                normalizedTokens.append((content, t))
            } else {
                raw.append((content, t))
            }
        }
        addedById = byId
        let prefixSpace = steps.contains { if case .byteLevel(true, _) = $0 { return true }; return false }
        let crossing = matchesAddedTokens && addedTokens.contains {
            $0.content.utf8.contains(0x0A) || $0.lstrip || $0.rstrip || $0.singleWord
        }
        let onlyKnownSplits = steps.allSatisfy { step in
            switch step {
            case .split, .byteLevel: return true
            case .metaspace, .splitter: return false
            }
        }
        cleanBoundaryPossible = isByteLevel && onlyKnownSplits && !prefixSpace && !crossing
            && normalizer.steps.allSatisfy { if case .nfc = $0 { return true }; return false }
        rawMatcher = TokenMatcher(matchesAddedTokens ? raw : [])
        normalizedMatcher = TokenMatcher(matchesAddedTokens ? normalizedTokens : [])
        var size = model.tokens.count
        for t in addedTokens { size = max(size, Int(t.id) + 1) }
        vocabularySize = size

        // transformers rebuilds the post-processor from add_bos_token / add_eos_token when the
        // model folder's config sets either; otherwise the tokenizer.json one stays.
        var prefix = postPrefix, suffix = postSuffix
        if let config, config.addBosToken != nil || config.addEosToken != nil {
            func id(_ name: String?) -> UInt32? {
                guard let name else { return nil }
                if let t = addedTokens.last(where: { $0.content == name }) { return t.id }
                var bytes = Array(name.utf8)
                let found = model.tokens.count > 0 ? model.lookup.get(&bytes, bytes.count) : BytesToId.empty
                return found == BytesToId.empty ? nil : found
            }
            prefix = config.addBosToken == true ? id(config.bosToken).map { [$0] } ?? [] : []
            suffix = config.addEosToken == true ? id(config.eosToken).map { [$0] } ?? [] : []
        }
        self.postPrefix = prefix
        self.postSuffix = suffix
    }

    // MARK: Encoding

    /// Encodes `text` to token ids.
    ///
    /// Added tokens are matched as the format's reference does (tokenizer.json: as HF
    /// `encode(text, add_special_tokens=False)`; tokenizer.model: never, as sentencepiece's
    /// `encode`; other formats: only when loaded with `allowSpecial`, else special-token strings
    /// are ordinary text, as tiktoken's `encode_ordinary`).
    ///
    ///     gpt2.encode("Hello world")  // [15496, 995]
    ///
    /// - Parameter addSpecialTokens: put the ids of `specialTokensAround` around the text (e.g. BOS).
    /// - Complexity: O(n log n) in the length of the text; O(n) for natural text.
    public func encode(_ text: String, addSpecialTokens: Bool = false) -> [UInt32] {
        var out: [UInt32] = []
        let context = contexts.take()
        var text = text
        text.withUTF8 { encodeValid($0, into: &out, context: context) }
        contexts.give(context)
        if addSpecialTokens && (!postPrefix.isEmpty || !postSuffix.isEmpty) {
            out = postPrefix + out + postSuffix
        }
        return out
    }

    /// Appends the ids of UTF-8 `bytes` to `out`, reusing a thread's `context`. Ill-formed UTF-8
    /// is first repaired as `String(decoding:as:)` does (each bad sequence → U+FFFD), so any
    /// bytes are safe to pass.
    public func encode(utf8 bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt32], context: EncodingContext) {
        if firstInvalidUTF8(bytes) != nil {
            var repaired = String(decoding: bytes, as: UTF8.self)
            repaired.withUTF8 { encodeValid($0, into: &out, context: context) }
            return
        }
        encodeValid(bytes, into: &out, context: context)
    }

    private func encodeValid(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt32], context: EncodingContext) {
        if rawMatcher.isEmpty {
            encodeNormalizing(bytes, atStart: true, into: &out, context)
            return
        }
        rawMatcher.split(bytes) { s, e, id in
            if id != TokenMatcher.textPiece { out.append(id) } else {
                encodeNormalizing(UnsafeBufferPointer(rebasing: bytes[s..<e]), atStart: s == 0, into: &out, context)
            }
        }
    }

    /// The ids put before and after a text when special tokens are requested: for a model
    /// folder whose tokenizer_config.json sets `add_bos_token` / `add_eos_token`, what
    /// transformers' `AutoTokenizer` adds (BOS / EOS); otherwise the tokenizer.json
    /// post-processor's (as HF `tokenizers`' `encode(text)`); none for other files.
    public var specialTokensAround: (prefix: [UInt32], suffix: [UInt32]) { (postPrefix, postSuffix) }

    private func encodeNormalizing(_ p: UnsafeBufferPointer<UInt8>, atStart: Bool, into out: inout [UInt32], _ ctx: EncodingContext) {
        if let normalized = normalizer.apply(p) {
            normalized.withUnsafeBufferPointer { encodeNormalized($0, atStart: atStart, into: &out, ctx) }
        } else {
            encodeNormalized(p, atStart: atStart, into: &out, ctx)
        }
    }

    private func encodeNormalized(_ p: UnsafeBufferPointer<UInt8>, atStart: Bool, into out: inout [UInt32], _ ctx: EncodingContext) {
        if normalizedMatcher.isEmpty {
            preTokenizeAll(p, atStart: atStart, into: &out, ctx)
            return
        }
        normalizedMatcher.split(p) { s, e, id in
            if id != TokenMatcher.textPiece { out.append(id) } else {
                preTokenizeAll(UnsafeBufferPointer(rebasing: p[s..<e]), atStart: atStart && s == 0, into: &out, ctx)
            }
        }
    }

    @inline(__always)
    private func preTokenizeAll(_ p: UnsafeBufferPointer<UInt8>, atStart: Bool, into out: inout [UInt32], _ ctx: EncodingContext) {
        if let pattern = singlePattern {
            encodeSplit(p, pattern, into: &out, ctx)
        } else {
            preTokenize(p, step: 0, mapped: false, atStart: atStart, into: &out, ctx)
        }
    }

    /// The common byte-level pipeline — one split pattern, then the model — as one loop per pattern.
    @inline(never)
    private func encodeSplit(_ p: UnsafeBufferPointer<UInt8>, _ pattern: SplitPattern, into out: inout [UInt32], _ ctx: EncodingContext) {
        guard let base = p.baseAddress else { return }
        let s = Scanner(p: p, end: p.count)
        let model = self.model
        var i = 0
        let n = p.count
        switch pattern {
        case .gpt2: while i < n { let e = s.gpt2(i); ctx.encodePiece(model, base + i, e - i, into: &out); i = e }
        case .cl100k: while i < n { let e = s.cl100k(i, maxDigits: 3); ctx.encodePiece(model, base + i, e - i, into: &out); i = e }
        case .qwen2: while i < n { let e = s.cl100k(i, maxDigits: 1); ctx.encodePiece(model, base + i, e - i, into: &out); i = e }
        case .o200k: while i < n { let e = s.o200k(i); ctx.encodePiece(model, base + i, e - i, into: &out); i = e }
        }
    }

    /// Runs pre-tokenizer step `k` on `p` and the later steps on each of its pieces; the last
    /// pieces go to the model.
    /// - Parameters:
    ///   - mapped: `p` is written in the GPT-2 byte alphabet (a ByteLevel step came before and
    ///     more steps followed it); the model gets the raw bytes back.
    ///   - atStart: `p` begins the input text (Metaspace's `prepend_scheme: first`).
    private func preTokenize(_ p: UnsafeBufferPointer<UInt8>, step k: Int, mapped: Bool, atStart: Bool,
                             into out: inout [UInt32], _ ctx: EncodingContext) {
        guard p.count > 0 else { return }
        guard k < steps.count else {
            encodeWord(p, mapped: mapped, into: &out, ctx)
            return
        }
        switch steps[k] {
        case .split(let pattern):
            pattern.split(p, 0, p.count) { s, e in
                preTokenize(UnsafeBufferPointer(rebasing: p[s..<e]), step: k + 1, mapped: mapped, atStart: atStart && s == 0, into: &out, ctx)
            }
        case let .byteLevel(addPrefixSpace, pattern):
            if addPrefixSpace && p[0] != 0x20 {
                let spaced = [0x20] + Array(p)
                spaced.withUnsafeBufferPointer { preTokenizeByteLevel($0, pattern, step: k, atStart: atStart, into: &out, ctx) }
            } else {
                preTokenizeByteLevel(p, pattern, step: k, atStart: atStart, into: &out, ctx)
            }
        case .metaspace(let m):
            m.apply(p, atStart: atStart) { piece, pieceAtStart in
                preTokenize(piece, step: k + 1, mapped: mapped, atStart: pieceAtStart, into: &out, ctx)
            }
        case .splitter(let splitter):
            splitter.split(p) { s, e in
                if e > s {
                    preTokenize(UnsafeBufferPointer(rebasing: p[s..<e]), step: k + 1, mapped: mapped, atStart: atStart && s == 0, into: &out, ctx)
                }
            }
        }
    }

    private func preTokenizeByteLevel(_ p: UnsafeBufferPointer<UInt8>, _ pattern: SplitPattern?, step k: Int, atStart: Bool,
                                      into out: inout [UInt32], _ ctx: EncodingContext) {
        // Later steps see the byte-level characters, as in HF.
        let mapNext = k + 1 < steps.count
        func next(_ piece: UnsafeBufferPointer<UInt8>, _ pieceAtStart: Bool) {
            if mapNext {
                let mapped = ByteLevel.encode(piece)
                mapped.withUnsafeBufferPointer { preTokenize($0, step: k + 1, mapped: true, atStart: pieceAtStart, into: &out, ctx) }
            } else {
                preTokenize(piece, step: k + 1, mapped: false, atStart: pieceAtStart, into: &out, ctx)
            }
        }
        if let pattern {
            pattern.split(p, 0, p.count) { s, e in next(UnsafeBufferPointer(rebasing: p[s..<e]), atStart && s == 0) }
        } else {
            next(p, atStart)
        }
    }

    /// One word → the model.
    @inline(__always)
    private func encodeWord(_ p: UnsafeBufferPointer<UInt8>, mapped: Bool, into out: inout [UInt32], _ ctx: EncodingContext) {
        guard let base = p.baseAddress else { return }
        let model = self.model
        switch kind {
        case .byteLevel:
            if mapped {
                var raw: [UInt8] = []
                raw.reserveCapacity(p.count)
                if !ByteLevel.fastDecode(p, into: &raw) { raw = Array(p) }
                raw.withUnsafeBufferPointer { r in
                    if let b = r.baseAddress { ctx.encodePiece(model, b, r.count, into: &out) }
                }
            } else {
                ctx.encodePiece(model, base, p.count, into: &out)
            }
        case .characters:
            if let cut {
                cut.forEachPiece(base, p.count, model) { s, e in ctx.encodeCharacterPiece(model, base + s, e - s, into: &out) }
            } else {
                ctx.encodeCharacterPiece(model, base, p.count, into: &out)
            }
        case .sentencePiece(let spm):
            if let cut {
                cut.forEachPiece(base, p.count, model) { s, e in ctx.encodeSentencePiece(spm, base + s, e - s, into: &out) }
            } else {
                ctx.encodeSentencePiece(spm, base, p.count, into: &out)
            }
        }
    }

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
        return text.withUTF8 { p in normalizer.apply(p)?.count ?? p.count }
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
        guard cleanBoundaryPossible else { return false }
        let p = prompt.utf8
        guard let last = p.last, last == 0x0A else { return false }
        if p.count >= 2 {
            let before = p[p.index(p.endIndex, offsetBy: -2)]
            // Any byte of a multi-byte scalar is not white space except U+0085 (C2 85) and the
            // like; treat every non-ASCII byte as unknown.
            if before >= 0x80 || before == 0x20 || (0x09...0x0D).contains(before) { return false }
        }
        guard let first = completion.unicodeScalars.first else { return false }
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

/// Idle `EncodingContext`s shared by the calls of `Tokenizer.encode(_:)` (any thread takes one,
/// uses it alone, and gives it back).
final class ContextPool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [EncodingContext] = []

    func take() -> EncodingContext {
        lock.lock()
        defer { lock.unlock() }
        return idle.popLast() ?? EncodingContext()
    }

    func give(_ c: EncodingContext) {
        lock.lock()
        defer { lock.unlock() }
        if idle.count < 8 { idle.append(c) }
    }
}

/// Per-thread scratch space for encoding: merge buffers and a cache of recent pre-tokens.
/// Not thread-safe; give each thread its own.
public final class EncodingContext {
    let scratch = MergeScratch()
    let cache = PieceCache()

    public init() {}

    /// Encodes one pre-token (steps in BPEMerge.swift's header).
    @inline(__always)
    func encodePiece(_ model: BPEModel, _ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32]) {
        if n == 1 || n > PieceCache.maxKeyLength {
            model.encodePiece(p, n, into: &out, scratch: scratch)
            return
        }
        if let id = model.wholeToken(p, n) { out.append(id); return }
        if cache.lookup(p, n, into: &out) { return }
        let before = out.count
        model.merge(p, n, into: &out, scratch: scratch)
        cache.insert(p, n, out[before...])
    }

    /// Encodes one word piece of a character-level BPE: whole token, cache, merge.
    @inline(__always)
    func encodeCharacterPiece(_ model: BPEModel, _ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32]) {
        if n == 1 || n > PieceCache.maxKeyLength {
            model.encodeCharacters(p, n, into: &out, scratch: scratch)
            return
        }
        if let id = model.wholeToken(p, n) { out.append(id); return }
        if cache.lookup(p, n, into: &out) { return }
        let before = out.count
        model.encodeCharacters(p, n, into: &out, scratch: scratch)
        cache.insert(p, n, out[before...])
    }

    /// Encodes one word piece of a SentencePiece model: whole piece, cache, merge.
    @inline(__always)
    func encodeSentencePiece(_ spm: SentencePieceBPE, _ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32]) {
        if n == 1 || n > PieceCache.maxKeyLength || spm.wholeText {
            spm.encode(p, n, into: &out, scratch: scratch)
            return
        }
        if let id = spm.model.wholeToken(p, n) { out.append(id); return }
        if cache.lookup(p, n, into: &out) { return }
        let before = out.count
        spm.encode(p, n, into: &out, scratch: scratch)
        cache.insert(p, n, out[before...])
    }
}

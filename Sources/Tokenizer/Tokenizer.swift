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
    /// Whether `cut(in:from:to:)` may find cuts (Tokenizer+Cuts.swift).
    let cutsAllowed: Bool
    /// Contexts reused by `encode(_:)`, so a call does not allocate a piece cache (~2 MB).
    let contexts = ContextPool()
    /// Ids put around the text when special tokens are requested (see `specialTokensAround`).
    let postPrefix: [UInt32]
    let postSuffix: [UInt32]
    /// What the tokenizer.json post-processor says (for `finetok info`).
    let postProcessorDescription: String

    /// Waits for the tables built in the background at load (`BacktrackSlot`). Encoding does
    /// not need this (until they are built it merges long pieces with the heap, and waits only
    /// for a piece over 1 KB); a benchmark calls it so that its clock times the encoder alone,
    /// and its load time is the whole load.
    public func finishLoading() { _ = model.backtrack?.tables }

    init(format: Format, paths: [String], model: BPEModel, kind: ModelKind = .byteLevel, normalizer: Normalizer,
         steps: [PreTokenizerStep], cut: MetaspaceCut? = nil, decodeMode: DecodeMode = .bytes,
         addedTokens: [AddedToken], matchesAddedTokens: Bool, postPrefix: [UInt32] = [], postSuffix: [UInt32] = [],
         postProcessorDescription: String = "none", config: TokenizerConfig? = nil) {
        self.format = format
        self.paths = paths
        var model = model
        if case .byteLevel = kind, model.backtrack == nil { model.backtrack = BacktrackSlot(building: model) }
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
        let matched = matchesAddedTokens ? raw + normalizedTokens : []
        cutsAllowed = Tokenizer.cutsAllowed(singlePattern: single, normalizer: normalizer,
                                            matchedAddedTokens: matched.map(\.token), contents: matched.map(\.bytes))
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
        // The split scanners' Unicode table (started by `load`): have it with the tokenizer,
        // not inside the first encode call.
        _ = UnicodeClasses.bmp
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
        encode(text, into: &out, context: context)
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
        guard encode(strictUTF8: bytes, into: &out, context: context) != nil else { return }
        encode(String(decoding: bytes, as: UTF8.self), into: &out, context: context)
    }

    /// Appends the ids of `text` to `out`, reusing a thread's `context`. A String is valid UTF-8,
    /// so the bytes are not checked again (~1% of a build's encoding thread).
    public func encode(_ text: String, into out: inout [UInt32], context: EncodingContext) {
        var text = text
        text.withUTF8 { encodeValid($0, into: &out, context: context) }
    }

    /// Appends the ids of `bytes`, which the caller has checked to be valid UTF-8 (`Documents`,
    /// whose bytes are checked where they are read; the parts of a checked row): no second check
    /// (4.5% of the encoding of Chinese text, ~1% of English). Ill-formed bytes here would be
    /// read past, so this is for the package's own callers only.
    package func encode(validUTF8 bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt32], context: EncodingContext) {
        encodeValid(bytes, into: &out, context: context)
    }

    /// Appends the ids of `bytes` to `out` if they are valid UTF-8; otherwise appends nothing and
    /// returns the offset of the first ill-formed sequence (for inputs that reject such text
    /// rather than repair it, with one check instead of two).
    public func encode(strictUTF8 bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt32], context: EncodingContext) -> Int? {
        if let bad = firstInvalidUTF8(bytes) { return bad }
        encodeValid(bytes, into: &out, context: context)
        return nil
    }

    private func encodeValid(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt32], context: EncodingContext) {
        context.bind(to: self)
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

    func encodeNormalizing(_ p: UnsafeBufferPointer<UInt8>, atStart: Bool, into out: inout [UInt32], _ ctx: EncodingContext) {
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

    /// The common byte-level pipeline — one split pattern, then the model — as one loop per
    /// pattern (EncodingContext+Split.swift).
    @inline(never)
    private func encodeSplit(_ p: UnsafeBufferPointer<UInt8>, _ pattern: SplitPattern, into out: inout [UInt32], _ ctx: EncodingContext) {
        ctx.encodeSplit(p, pattern, model, into: &out)
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
}

// The front end: one `Tokenizer` whatever file it was loaded from. Encoding runs the pipeline
// stages in order, as HF `tokenizers` names them:
//
//   added tokens (raw text) → normalizer → added tokens (normalized text) → pre-tokenizer
//   (split pattern, byte level) → BPE merges (BPEMerge.swift) → [post-processor when asked]
//
// Everything works on UTF-8 bytes and `UInt32` ids; no `String` is made per token.

import Foundation

/// A pre-tokenizer step.
enum PreTokenizerStep: Sendable, Equatable {
    /// HF `Split` with a known pattern (matches are the pieces).
    case split(SplitPattern)
    /// HF `ByteLevel`: optionally a leading space, optionally the GPT-2 split (`use_regex`).
    case byteLevel(addPrefixSpace: Bool, pattern: SplitPattern?)
}

/// A byte-level BPE tokenizer loaded from `vocab.json` + `merges.txt`, an HF `tokenizer.json`, or
/// a tiktoken rank file. Immutable and safe to share between threads.
public final class Tokenizer: Sendable {
    /// Which kind of file the tokenizer came from; it decides the reference behaviour.
    public enum Format: String, Sendable {
        /// GPT-2 style `vocab.json` + `merges.txt` (HF `tokenizers` BPE with a ByteLevel pre-tokenizer).
        case vocabMerges = "vocab.json+merges.txt"
        /// HF `tokenizer.json`.
        case tokenizerJSON = "tokenizer.json"
        /// tiktoken `base64 rank` file.
        case tiktoken
    }

    public let format: Format
    /// The file(s) the tokenizer was loaded from.
    public let paths: [String]
    /// One past the highest id (model and added tokens).
    public let vocabularySize: Int
    /// Added and special tokens (tokenizer.json `added_tokens`, a tiktoken encoding's specials,
    /// or `<|...|>` entries of a vocab.json).
    public let addedTokens: [AddedToken]

    let model: BPEModel
    let normalizer: Normalizer
    let steps: [PreTokenizerStep]
    /// Set when the pre-tokenizer is a single split pattern (the fast path).
    let singlePattern: SplitPattern?
    /// Whether added tokens are found in the text (tokenizer.json always; other formats with
    /// `allowSpecial`).
    let matchesAddedTokens: Bool
    let rawMatcher: TokenMatcher
    let normalizedMatcher: TokenMatcher
    let addedById: [UInt32: (token: AddedToken, bytes: [UInt8])]
    /// Whether `splitsCleanly` can ever say yes: no prefix space is added to pieces, and no
    /// matched added token contains a newline or strips / needs word boundaries.
    let cleanBoundaryPossible: Bool
    /// Contexts reused by `encode(_:)`, so a call does not allocate a piece cache (~2 MB).
    let contexts = ContextPool()
    /// Ids put around the text by the post-processor when special tokens are requested.
    let postPrefix: [UInt32]
    let postSuffix: [UInt32]

    init(format: Format, paths: [String], model: BPEModel, normalizer: Normalizer, steps: [PreTokenizerStep],
         addedTokens: [AddedToken], matchesAddedTokens: Bool, postPrefix: [UInt32] = [], postSuffix: [UInt32] = []) {
        self.format = format
        self.paths = paths
        self.model = model
        self.normalizer = normalizer
        self.steps = steps
        self.addedTokens = addedTokens
        self.matchesAddedTokens = matchesAddedTokens
        self.postPrefix = postPrefix
        self.postSuffix = postSuffix
        var single: SplitPattern?
        if steps.count == 1, case .split(let p) = steps[0] { single = p }
        if steps.count == 1, case .byteLevel(false, let p?) = steps[0] { single = p }
        if steps.count == 2, case .split(let p) = steps[0], case .byteLevel(false, nil) = steps[1] { single = p }
        singlePattern = single
        var byId: [UInt32: (token: AddedToken, bytes: [UInt8])] = [:]
        var raw: [(bytes: [UInt8], token: AddedToken)] = []
        var normalizedTokens: [(bytes: [UInt8], token: AddedToken)] = []
        for t in addedTokens {
            // HF decodes an added token through the ByteLevel decoder, which falls back to the
            // content's own UTF-8 when a character is outside the byte alphabet.
            let decoded = format == .tiktoken ? Array(t.content.utf8) : (ByteLevel.decode(t.content) ?? Array(t.content.utf8))
            byId[t.id] = (t, decoded)
            if t.normalized && normalizer != .none {
                var c = Array(t.content.utf8)
                if let n = c.withUnsafeBufferPointer({ normalizer.apply($0) }) { c = n }
                normalizedTokens.append((c, t))
            } else if t.normalized {
                normalizedTokens.append((Array(t.content.utf8), t))
            } else {
                raw.append((Array(t.content.utf8), t))
            }
        }
        addedById = byId
        let prefixSpace = steps.contains { if case .byteLevel(true, _) = $0 { return true }; return false }
        let crossing = matchesAddedTokens && addedTokens.contains {
            $0.content.utf8.contains(0x0A) || $0.lstrip || $0.rstrip || $0.singleWord
        }
        cleanBoundaryPossible = !prefixSpace && !crossing
        rawMatcher = TokenMatcher(matchesAddedTokens ? raw : [])
        normalizedMatcher = TokenMatcher(matchesAddedTokens ? normalizedTokens : [])
        var size = model.tokens.count
        for t in addedTokens { size = max(size, Int(t.id) + 1) }
        vocabularySize = size
    }

    // MARK: Encoding

    /// Encodes `text` to token ids.
    ///
    /// Added tokens are matched as the format's reference does (tokenizer.json: as HF
    /// `encode(text, add_special_tokens=False)`; other formats: only when loaded with
    /// `allowSpecial`, else special-token strings are ordinary text, as tiktoken's `encode_ordinary`).
    ///
    ///     gpt2.encode("Hello world")  // [15496, 995]
    ///
    /// - Parameter addSpecialTokens: apply the tokenizer.json post-processor (e.g. a BOS token).
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
            encodeNormalizing(bytes, into: &out, context)
            return
        }
        rawMatcher.split(bytes) { s, e, id in
            if id != TokenMatcher.textPiece { out.append(id) } else {
                encodeNormalizing(UnsafeBufferPointer(rebasing: bytes[s..<e]), into: &out, context)
            }
        }
    }

    /// The ids the post-processor adds before and after the text when special tokens are requested.
    public var specialTokensAround: (prefix: [UInt32], suffix: [UInt32]) { (postPrefix, postSuffix) }

    private func encodeNormalizing(_ p: UnsafeBufferPointer<UInt8>, into out: inout [UInt32], _ ctx: EncodingContext) {
        if let normalized = normalizer.apply(p) {
            normalized.withUnsafeBufferPointer { encodeNormalized($0, into: &out, ctx) }
        } else {
            encodeNormalized(p, into: &out, ctx)
        }
    }

    private func encodeNormalized(_ p: UnsafeBufferPointer<UInt8>, into out: inout [UInt32], _ ctx: EncodingContext) {
        if normalizedMatcher.isEmpty {
            preTokenizeAll(p, into: &out, ctx)
            return
        }
        normalizedMatcher.split(p) { s, e, id in
            if id != TokenMatcher.textPiece { out.append(id) } else {
                preTokenizeAll(UnsafeBufferPointer(rebasing: p[s..<e]), into: &out, ctx)
            }
        }
    }

    @inline(__always)
    private func preTokenizeAll(_ p: UnsafeBufferPointer<UInt8>, into out: inout [UInt32], _ ctx: EncodingContext) {
        if let pattern = singlePattern { encodeSplit(p, pattern, into: &out, ctx) } else { preTokenize(p, step: 0, into: &out, ctx) }
    }

    /// The common pipeline — one split pattern, then the model — as one loop per pattern.
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

    private func preTokenize(_ p: UnsafeBufferPointer<UInt8>, step k: Int, into out: inout [UInt32], _ ctx: EncodingContext) {
        guard p.count > 0 else { return }
        guard k < steps.count else {
            // Every pre-token goes to the model, through the piece cache.
            if let base = p.baseAddress { ctx.encodePiece(model, base, p.count, into: &out) }
            return
        }
        switch steps[k] {
        case .split(let pattern):
            pattern.split(p, 0, p.count) { s, e in
                preTokenize(UnsafeBufferPointer(rebasing: p[s..<e]), step: k + 1, into: &out, ctx)
            }
        case let .byteLevel(addPrefixSpace, pattern):
            if addPrefixSpace && p[0] != 0x20 {
                let spaced = [0x20] + Array(p)
                spaced.withUnsafeBufferPointer { preTokenizeByteLevel($0, pattern, step: k, into: &out, ctx) }
            } else {
                preTokenizeByteLevel(p, pattern, step: k, into: &out, ctx)
            }
        }
    }

    private func preTokenizeByteLevel(_ p: UnsafeBufferPointer<UInt8>, _ pattern: SplitPattern?, step k: Int,
                                      into out: inout [UInt32], _ ctx: EncodingContext) {
        if let pattern {
            pattern.split(p, 0, p.count) { s, e in
                preTokenize(UnsafeBufferPointer(rebasing: p[s..<e]), step: k + 1, into: &out, ctx)
            }
        } else {
            preTokenize(p, step: k + 1, into: &out, ctx)
        }
    }

    // MARK: Decoding

    /// The bytes of `ids` joined, as the ByteLevel decoder gives them.
    /// - Throws: `TokenizerError.unknownId` for an id outside the vocabulary.
    public func decodeBytes(_ ids: [UInt32], skipSpecialTokens: Bool = false) throws(TokenizerError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        for id in ids {
            if let added = addedById[id] {
                if skipSpecialTokens && added.token.special { continue }
                out.append(contentsOf: added.bytes)
            } else if Int(id) < model.tokens.count && model.tokens.present[Int(id)] {
                let r = model.tokens.range(Int(id))
                out.append(contentsOf: UnsafeBufferPointer(start: model.tokens.bytes + r.lowerBound, count: r.count))
            } else {
                throw .unknownId(Int(id), vocabularySize: vocabularySize)
            }
        }
        return out
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

    /// How many bytes `id` stands for (0 for an unknown id).
    public func tokenByteCount(_ id: UInt32) -> Int {
        if let added = addedById[id] { return added.bytes.count }
        guard Int(id) < model.tokens.count, model.tokens.present[Int(id)] else { return 0 }
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
    /// boundary, and normalization cannot compose across it. False means "unknown".
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

    /// The end-of-text token: the first of `<|endoftext|>`, `<|end_of_text|>`, `</s>`, `<eos>`,
    /// `<|im_end|>` that the tokenizer has.
    public var eosTokenId: UInt32? {
        for name in ["<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>", "<|im_end|>"] {
            if let id = tokenId(name) { return id }
        }
        return nil
    }

    /// The padding token, if the tokenizer has one (`<|padding|>`, `<|pad|>`, `<pad>`, `[PAD]`).
    public var padTokenId: UInt32? {
        for name in ["<|padding|>", "<|pad|>", "<pad>", "[PAD]"] {
            if let id = tokenId(name) { return id }
        }
        return nil
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
}

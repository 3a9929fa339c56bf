// The C interface of `libFinetokC.so`, the library the Python package loads with ctypes
// (packaging/python/finetok/_native.py). Only the wheel uses it; it calls the public
// `Tokenizer` API and nothing else.
//
//   void   *finetok_tokenizer_load(const char *path, const char *encoding, const char *pattern,
//                                  int32_t allow_special, char **message)      → handle or NULL
//   void    finetok_tokenizer_free(void *handle)
//   char   *finetok_tokenizer_info(void *handle)                             → JSON text
//   int32_t finetok_encode_batch(void *handle, const uint8_t *bytes, const int64_t *offsets,
//                                int64_t count, int64_t threads, int32_t add_special_tokens,
//                                uint32_t **ids, int64_t *id_count, int64_t **id_offsets)
//   int32_t finetok_decode(void *handle, const uint32_t *ids, int64_t count, int32_t skip_special,
//                          char **text, int64_t *length, char **message)
//   void    finetok_buffer_free(void *buffer)
//
// Texts: `count` UTF-8 texts back to back in `bytes`, text k at bytes[offsets[k] ..< offsets[k+1]]
// (`offsets` has count + 1 entries). Ill-formed UTF-8 is repaired to U+FFFD, as `encode` does.
// Ids: one flat uint32 buffer; text k's ids are ids[id_offsets[k] ..< id_offsets[k+1]].
//
// Ownership: every buffer finetok returns (ids, id_offsets, info and decoded text, error
// messages) is allocated by finetok and freed by the caller with finetok_buffer_free; the
// caller's buffers are only read during the call. Functions returning int32_t give 0 on
// success, -1 on error (with *message set to a UTF-8 error message when `message` is not NULL).
//
// Threads: a handle may be used by several threads at once (`Tokenizer` is immutable; each call
// takes its own `EncodingContext`s from the handle's pool). Nothing here touches Python, so
// ctypes releases the GIL for the whole call.

import Foundation
import Tokenizer

/// What a handle points to: the tokenizer and its idle encoding contexts.
final class TokenizerHandle: @unchecked Sendable {
    let tokenizer: Tokenizer
    private let lock = NSLock()
    private var idle: [EncodingContext] = []

    init(_ tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    /// `n` contexts for one call (each holds scratch buffers and a piece cache of ~2 MB, so they
    /// are kept between calls rather than made per call).
    func takeContexts(_ n: Int) -> [EncodingContext] {
        lock.lock()
        defer { lock.unlock() }
        var out: [EncodingContext] = []
        while out.count < n, let c = idle.popLast() { out.append(c) }
        while out.count < n { out.append(EncodingContext()) }
        return out
    }

    func giveBack(_ contexts: [EncodingContext]) {
        lock.lock()
        defer { lock.unlock() }
        idle.append(contentsOf: contexts.prefix(max(0, 16 - idle.count)))
    }

    static func from(_ raw: UnsafeMutableRawPointer) -> TokenizerHandle {
        Unmanaged<TokenizerHandle>.fromOpaque(raw).takeUnretainedValue()
    }
}

/// A copy of `bytes` for the caller, NUL-terminated (the terminator is not counted in
/// `bytes.count`); the caller frees it with finetok_buffer_free.
func cString(_ bytes: some Collection<UInt8>) -> UnsafeMutablePointer<CChar> {
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
    var k = 0
    for b in bytes { p[k] = CChar(bitPattern: b); k += 1 }
    p[k] = 0
    return p
}

/// Stores `text` in `*message` (when the caller asked for it) and returns -1.
@discardableResult
func fail(_ text: String, _ message: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    message?.pointee = cString(Array(text.utf8))
    return -1
}

/// Loads a tokenizer as `Tokenizer.load` does (a model folder or a file). `encoding` and
/// `pattern` may be NULL; `allow_special` ≠ 0 matches special-token strings in the text for
/// vocab.json + merges.txt and tiktoken files.
@_cdecl("finetok_tokenizer_load")
public func finetokTokenizerLoad(_ path: UnsafePointer<CChar>?, _ encoding: UnsafePointer<CChar>?,
                                 _ pattern: UnsafePointer<CChar>?, _ allowSpecial: Int32,
                                 _ message: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> UnsafeMutableRawPointer? {
    guard let path else { fail("finetok_tokenizer_load: path is NULL", message); return nil }
    var options = LoadOptions()
    options.encoding = encoding.map { String(cString: $0) }
    options.allowSpecial = allowSpecial != 0
    if let pattern {
        let name = String(cString: pattern)
        guard let p = SplitPattern(name: name) else {
            fail("pattern must be one of \(SplitPattern.allCases.map(\.rawValue).joined(separator: ", ")); got \"\(name)\"", message)
            return nil
        }
        options.pattern = p
    }
    do {
        let tokenizer = try Tokenizer.load(String(cString: path), options: options)
        // A Python process loads once and encodes for long: the load returns with every table
        // built, so no encode call (or benchmark of one) waits for the background build.
        tokenizer.finishLoading()
        return Unmanaged.passRetained(TokenizerHandle(tokenizer)).toOpaque()
    } catch {
        fail(error.description, message)
        return nil
    }
}

@_cdecl("finetok_tokenizer_free")
public func finetokTokenizerFree(_ handle: UnsafeMutableRawPointer?) {
    guard let handle else { return }
    Unmanaged<TokenizerHandle>.fromOpaque(handle).release()
}

@_cdecl("finetok_buffer_free")
public func finetokBufferFree(_ buffer: UnsafeMutableRawPointer?) {
    buffer?.deallocate()
}

/// The tokenizer's facts as one JSON object: `format`, `paths`, `vocab_size`, `added_tokens`
/// (`[{"id", "content", "special"}]`), `eos_token_id`, `pad_token_id` (null when none),
/// `prefix` / `suffix` (the ids `add_special_tokens` puts around a text).
@_cdecl("finetok_tokenizer_info")
public func finetokTokenizerInfo(_ handle: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<CChar>? {
    guard let handle else { return nil }
    let t = TokenizerHandle.from(handle).tokenizer
    var out: [UInt8] = []
    func raw(_ s: String) { out.append(contentsOf: s.utf8) }
    func ids(_ a: [UInt32]) { raw("[" + a.map(String.init).joined(separator: ", ") + "]") }
    func optional(_ id: UInt32?) { raw(id.map(String.init) ?? "null") }
    raw("{\"format\": ")
    JSON.appendQuoted(t.format.rawValue, to: &out)
    raw(", \"paths\": [")
    for (k, p) in t.paths.enumerated() {
        if k > 0 { raw(", ") }
        JSON.appendQuoted(p, to: &out)
    }
    raw("], \"vocab_size\": \(t.vocabularySize), \"added_tokens\": [")
    for (k, a) in t.addedTokens.enumerated() {
        if k > 0 { raw(", ") }
        raw("{\"id\": \(a.id), \"content\": ")
        JSON.appendQuoted(a.content, to: &out)
        raw(", \"special\": \(a.special)}")
    }
    raw("], \"eos_token_id\": ")
    optional(t.eosTokenId)
    raw(", \"pad_token_id\": ")
    optional(t.padTokenId)
    let (prefix, suffix) = t.specialTokensAround
    raw(", \"prefix\": ")
    ids(prefix)
    raw(", \"suffix\": ")
    ids(suffix)
    raw("}")
    return cString(out)
}

/// Encodes `count` texts into one flat id buffer (see `BatchEncoder`). Never fails for any
/// bytes; returns -1 only for arguments that break the contract above.
@_cdecl("finetok_encode_batch")
public func finetokEncodeBatch(_ handle: UnsafeMutableRawPointer?, _ bytes: UnsafePointer<UInt8>?,
                               _ offsets: UnsafePointer<Int64>?, _ count: Int64, _ threads: Int64,
                               _ addSpecialTokens: Int32,
                               _ ids: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>?>?,
                               _ idCount: UnsafeMutablePointer<Int64>?,
                               _ idOffsets: UnsafeMutablePointer<UnsafeMutablePointer<Int64>?>?) -> Int32 {
    guard let handle, let offsets, let ids, let idCount, let idOffsets, count >= 0 else { return -1 }
    let n = Int(count)
    for k in 0..<n where offsets[k] > offsets[k + 1] || offsets[k] < 0 { return -1 }
    if offsets[n] > 0 && bytes == nil { return -1 }
    let h = TokenizerHandle.from(handle)
    let texts = BatchEncoder.Texts(bytes: bytes, offsets: offsets, count: n)
    let threads = Int(max(1, min(threads, 1024)))
    let chunks = BatchEncoder.plan(texts, threads: threads)
    // One context per worker, and never more workers than chunks (a context holds ~2 MB).
    let contexts = h.takeContexts(max(1, min(threads, chunks.count)))
    let around = addSpecialTokens != 0 ? h.tokenizer.specialTokensAround : ([], [])
    let result = BatchEncoder(tokenizer: h.tokenizer, prefix: around.0, suffix: around.1)
        .encode(texts, chunks: chunks, contexts: contexts)
    h.giveBack(contexts)
    ids.pointee = result.ids
    idCount.pointee = Int64(result.idCount)
    idOffsets.pointee = result.offsets
    return 0
}

/// Decodes ids to UTF-8 text (`Tokenizer.decode`: invalid UTF-8 becomes U+FFFD). `*text` is
/// NUL-terminated; `*length` excludes the terminator (the text itself may hold U+0000).
@_cdecl("finetok_decode")
public func finetokDecode(_ handle: UnsafeMutableRawPointer?, _ ids: UnsafePointer<UInt32>?, _ count: Int64,
                          _ skipSpecial: Int32, _ text: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                          _ length: UnsafeMutablePointer<Int64>?,
                          _ message: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guard let handle, let text, let length, count >= 0, ids != nil || count == 0 else {
        return fail("finetok_decode: a NULL argument or a negative count", message)
    }
    let list = ids.map { Array(UnsafeBufferPointer(start: $0, count: Int(count))) } ?? []
    do {
        let s = try TokenizerHandle.from(handle).tokenizer.decode(list, skipSpecialTokens: skipSpecial != 0)
        let utf8 = Array(s.utf8)
        text.pointee = cString(utf8)
        length.pointee = Int64(utf8.count)
        return 0
    } catch {
        return fail(error.description, message)
    }
}

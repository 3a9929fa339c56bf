// Per-thread encoding state: scratch buffers and the piece cache, and the pool `encode(_:)`
// takes them from.

import Foundation

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

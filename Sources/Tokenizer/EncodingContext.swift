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

/// Per-thread scratch space for encoding: merge buffers, the piece caches and the output
/// buffer. Not thread-safe; give each thread its own.
public final class EncodingContext {
    let scratch = MergeScratch()
    let hot = HotPieceCache()
    let cache = PieceCache()
    /// Ids of the text being encoded, before they are appended to the caller's array.
    private(set) var buffer: UnsafeMutablePointer<UInt32> = .allocate(capacity: 1024)
    private(set) var bufferCapacity = 1024

    /// The tokenizer whose ids the caches hold: a context passed to another tokenizer empties
    /// them first.
    private var owner: ObjectIdentifier?

    public init() {}

    deinit { buffer.deallocate() }

    @inline(__always)
    func bind(to tokenizer: AnyObject) {
        let id = ObjectIdentifier(tokenizer)
        if owner == id { return }
        if owner != nil {
            hot.clear()
            cache.clear()
        }
        owner = id
    }

    /// The output buffer with room for at least `n` ids (its contents are not kept).
    @inline(__always)
    func reserveBuffer(_ n: Int) -> UnsafeMutablePointer<UInt32> {
        if n > bufferCapacity { growBuffer(n) }
        return buffer
    }

    private func growBuffer(_ n: Int) {
        var c = bufferCapacity
        while c < n { c *= 2 }
        buffer.deallocate()
        buffer = .allocate(capacity: c)
        bufferCapacity = c
    }

    /// Appends the ids of one pre-token (steps in BPEMerge.swift's header).
    @inline(__always)
    func encodePiece(_ model: BPEModel, _ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32]) {
        let dst = reserveBuffer(n + 4)
        let count = encodePiece(model, p, n, dst: dst)
        out.append(contentsOf: UnsafeBufferPointer(start: dst, count: count))
    }

    /// Writes the ids of one pre-token (n ≥ 1) to `dst`, which has room for n + 3 ids: the hot
    /// cache for pieces of ≤ 8 bytes, else the piece itself as a token, the second-level cache,
    /// a merge. Returns the count.
    @inline(__always)
    func encodePiece(_ model: BPEModel, _ p: UnsafePointer<UInt8>, _ n: Int, dst: UnsafeMutablePointer<UInt32>) -> Int {
        if n <= 8 {
            let key = packShort(p, n)
            let slot = HotPieceCache.slot(key, n)
            let v = hot.slots[2 * slot + 1]
            if hot.slots[2 * slot] == key && Int(v & 0xF) == n { return HotPieceCache.emit(v, dst) }
            return encodeShortMiss(model, p, n, key: key, slot: slot, dst: dst)
        }
        return encodeLongPiece(model, p, n, dst: dst)
    }

    /// A piece of ≤ 8 bytes not in the hot cache: computed, then put there.
    @inline(never)
    func encodeShortMiss(_ model: BPEModel, _ p: UnsafePointer<UInt8>, _ n: Int, key: UInt64, slot: Int,
                         dst: UnsafeMutablePointer<UInt32>) -> Int {
        let count: Int
        if n == 1 {
            count = model.encodeByte(p[0], dst: dst)
        } else if let id = model.wholeToken(p, n) {
            dst[0] = id
            count = 1
        } else {
            let cached = cache.lookup(p, n, dst: dst)
            if cached > 0 {
                count = cached
            } else {
                count = model.merge(p, n, dst: dst, scratch: scratch)
                cache.insert(p, n, dst, count)
            }
        }
        hot.insert(slot: slot, key: key, length: n, dst, count)
        return count
    }

    /// A piece of more than 8 bytes: whole token, second-level cache, merge.
    @inline(never)
    func encodeLongPiece(_ model: BPEModel, _ p: UnsafePointer<UInt8>, _ n: Int, dst: UnsafeMutablePointer<UInt32>) -> Int {
        if n > PieceCache.maxKeyLength { return model.encodePiece(p, n, dst: dst, scratch: scratch) }
        if let id = model.wholeToken(p, n) { dst[0] = id; return 1 }
        let cached = cache.lookup(p, n, dst: dst)
        if cached > 0 { return cached }
        let count = model.merge(p, n, dst: dst, scratch: scratch)
        cache.insert(p, n, dst, count)
        return count
    }

    /// Encodes one word piece of a character-level BPE: whole token, cache, merge.
    @inline(__always)
    func encodeCharacterPiece(_ model: BPEModel, _ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32]) {
        if n == 1 || n > PieceCache.maxKeyLength {
            model.encodeCharacters(p, n, into: &out, scratch: scratch)
            return
        }
        if let id = model.wholeToken(p, n) { out.append(id); return }
        if lookupCache(p, n, into: &out) { return }
        let before = out.count
        model.encodeCharacters(p, n, into: &out, scratch: scratch)
        insertCache(p, n, out, from: before)
    }

    /// Encodes one word piece of a SentencePiece model: whole piece, cache, merge.
    @inline(__always)
    func encodeSentencePiece(_ spm: SentencePieceBPE, _ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32]) {
        if n == 1 || n > PieceCache.maxKeyLength || spm.wholeText {
            spm.encode(p, n, into: &out, scratch: scratch)
            return
        }
        if let id = spm.model.wholeToken(p, n) { out.append(id); return }
        if lookupCache(p, n, into: &out) { return }
        let before = out.count
        spm.encode(p, n, into: &out, scratch: scratch)
        insertCache(p, n, out, from: before)
    }

    @inline(__always)
    private func lookupCache(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32]) -> Bool {
        let dst = reserveBuffer(PieceCache.maxIds)
        let count = cache.lookup(p, n, dst: dst)
        if count == 0 { return false }
        out.append(contentsOf: UnsafeBufferPointer(start: dst, count: count))
        return true
    }

    @inline(__always)
    private func insertCache(_ p: UnsafePointer<UInt8>, _ n: Int, _ out: [UInt32], from start: Int) {
        let count = out.count - start
        guard count <= PieceCache.maxIds else { return }
        out.withUnsafeBufferPointer { b in
            if let base = b.baseAddress { cache.insert(p, n, base + start, count) }
        }
    }
}

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

/// How the piece caches of one context answered, for byte-level models with a split pattern
/// (`finetok bench --cache-stats`). Hits are lookups minus misses; the counters cost a register
/// increment per piece and a memory one per miss.
public struct CacheStats: Sendable {
    /// Pieces of 1–8 bytes (hot cache), 9–16 (medium cache) and longer.
    public var shortPieces = 0, mediumPieces = 0, longPieces = 0
    public var hotMisses = 0, mediumMisses = 0
    /// Hot misses answered by the hot level's side table (pieces of 4–8 ids).
    public var wideHits = 0
    /// Lookups in the second level (misses of the first levels that are not a single token).
    public var secondLevelLookups = 0, secondLevelHits = 0
    /// Pieces merged (every one not answered by a cache or as a single token).
    public var merges = 0

    public init() {}

    public static func + (a: CacheStats, b: CacheStats) -> CacheStats {
        var c = a
        c.shortPieces += b.shortPieces; c.mediumPieces += b.mediumPieces; c.longPieces += b.longPieces
        c.hotMisses += b.hotMisses; c.mediumMisses += b.mediumMisses; c.wideHits += b.wideHits
        c.secondLevelLookups += b.secondLevelLookups; c.secondLevelHits += b.secondLevelHits
        c.merges += b.merges
        return c
    }
}

/// Per-thread scratch space for encoding: merge buffers, the piece caches and the output
/// buffer. Not thread-safe; give each thread its own.
public final class EncodingContext {
    let scratch = MergeScratch()
    let hot = HotPieceCache()
    let medium = MediumPieceCache()
    let wide = WidePieceCache()
    let cache = PieceCache()
    /// Ids of the text being encoded, before they are appended to the caller's array.
    private(set) var buffer: UnsafeMutablePointer<UInt32> = .allocate(capacity: EncodingContext.stagingIds)
    private(set) var bufferCapacity = EncodingContext.stagingIds
    /// The staging buffer's usual size (16 KB: it stays in the L1 cache).
    static let stagingIds = 4096

    /// The tokenizer whose ids the caches hold: a context passed to another tokenizer empties
    /// them first.
    private var owner: ObjectIdentifier?

    /// What the caches answered so far (byte-level models with a split pattern only). The piece
    /// counts by length are kept only when `countsPieces` is set.
    /// Unchecked exclusivity: a context belongs to one thread, and the counters are bumped on
    /// every cache miss, where the runtime's access check was ~90 instructions a miss (callgrind).
    @exclusivity(unchecked) public internal(set) var stats = CacheStats()
    /// Count pieces by length in `stats` (`finetok bench --cache-stats`; off, the fast loop keeps
    /// no counter).
    public var countsPieces: Bool

    public init(countsPieces: Bool = false) { self.countsPieces = countsPieces }

    deinit { buffer.deallocate() }

    @inline(__always)
    func bind(to tokenizer: AnyObject) {
        let id = ObjectIdentifier(tokenizer)
        if owner == id { return }
        if owner != nil {
            hot.clear()
            wide.clear()
            medium.clear()
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

    /// Writes the ids of one pre-token (n ≥ 1) to `dst`, which has room for n + 4 ids: the hot
    /// cache for pieces of ≤ 8 bytes, the medium cache for 9–16, else the piece itself as a
    /// token, the second-level cache, a merge. Returns the count.
    @inline(__always)
    func encodePiece(_ model: BPEModel, _ p: UnsafePointer<UInt8>, _ n: Int, dst: UnsafeMutablePointer<UInt32>) -> Int {
        if n <= 8 { return encodeShort(model, p, n, key: packShort(p, n), hot.slots, dst: dst) }
        if n <= 16 { return encodeMedium(model, p, n, medium.slots, dst: dst) }
        return encodeLongPiece(model, p, n, dst: dst)
    }

    /// A piece of 1–8 bytes, its bytes packed in `key`, from the hot cache (`hot`: its slots), else
    /// computed and put there.
    @inline(__always)
    func encodeShort(_ model: BPEModel, _ p: UnsafePointer<UInt8>, _ n: Int, key: UInt64, _ hot: UnsafeMutablePointer<UInt64>,
                     dst: UnsafeMutablePointer<UInt32>) -> Int {
        let set = HotPieceCache.set(key, n)
        let hit = HotPieceCache.lookup(hot, set, key, n, dst)
        return hit > 0 ? hit : encodeShortMiss(model, p, n, key: key, set: set, dst: dst)
    }

    /// A piece of 9–16 bytes from the medium cache (`medium`: its slots), else computed and put
    /// there.
    @inline(__always)
    func encodeMedium(_ model: BPEModel, _ p: UnsafePointer<UInt8>, _ n: Int, _ medium: UnsafeMutablePointer<UInt64>,
                      dst: UnsafeMutablePointer<UInt32>) -> Int {
        let r = UnsafeRawPointer(p)
        let a = r.loadUnaligned(as: UInt64.self), b = r.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
        let set = MediumPieceCache.set(a, b, n)
        let hit = MediumPieceCache.lookup(medium, set, a, b, n, dst)
        return hit > 0 ? hit : encodeMediumMiss(model, p, n, a, b, set: set, dst: dst)
    }

    /// A piece of 9–16 bytes not in the medium cache: computed, then put there.
    @inline(never)
    func encodeMediumMiss(_ model: BPEModel, _ p: UnsafePointer<UInt8>, _ n: Int, _ a: UInt64, _ b: UInt64, set: Int,
                          dst: UnsafeMutablePointer<UInt32>) -> Int {
        stats.mediumMisses &+= 1
        let count = encodeLongPiece(model, p, n, dst: dst)
        medium.insert(set: set, a, b, length: n, dst, count)
        return count
    }

    /// A piece of ≤ 8 bytes not in the hot cache: from its side table (4–8 ids), else computed,
    /// then put in one of the two.
    @inline(never)
    func encodeShortMiss(_ model: BPEModel, _ p: UnsafePointer<UInt8>, _ n: Int, key: UInt64, set: Int,
                         dst: UnsafeMutablePointer<UInt32>) -> Int {
        stats.hotMisses &+= 1
        let held = wide.lookup(key, n, dst)
        if held > 0 { stats.wideHits &+= 1; return held }
        let count: Int
        if n == 1 {
            count = model.encodeByte(p[0], dst: dst)
        } else if let id = model.wholeToken(p, n) {
            dst[0] = id
            count = 1
        } else {
            let cached = cache.lookup(p, n, dst: dst)
            stats.secondLevelLookups &+= 1
            if cached > 0 {
                count = cached
                stats.secondLevelHits &+= 1
            } else {
                stats.merges &+= 1
                count = model.merge(p, n, dst: dst, scratch: scratch)
                cache.insert(p, n, dst, count)
            }
        }
        if count <= 3 { hot.insert(set: set, key: key, length: n, dst, count) } else { wide.insert(key, n, dst, count) }
        return count
    }

    /// A piece of more than 8 bytes: whole token, second-level cache, merge (pieces of 9–16
    /// bytes come here when the medium cache misses).
    @inline(never)
    func encodeLongPiece(_ model: BPEModel, _ p: UnsafePointer<UInt8>, _ n: Int, dst: UnsafeMutablePointer<UInt32>) -> Int {
        if n > PieceCache.maxKeyLength {
            stats.merges &+= 1
            return model.encodePiece(p, n, dst: dst, scratch: scratch)
        }
        if let id = model.wholeToken(p, n) { dst[0] = id; return 1 }
        let cached = cache.lookup(p, n, dst: dst)
        stats.secondLevelLookups &+= 1
        if cached > 0 { stats.secondLevelHits &+= 1; return cached }
        stats.merges &+= 1
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

// A direct-mapped cache of recent pre-tokens → ids, one per encoding thread.
//
// Natural text repeats its words: most pre-tokens that are not single tokens were seen a few
// lines earlier. A hit costs one hash and one short compare instead of a merge. Slots are
// fixed-size (a key of at most `maxKeyLength` bytes, at most `maxIds` ids), so the cache never
// allocates after start and a collision simply overwrites. It caches a pure function, so it
// cannot change the output.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class PieceCache {
    static let slotBits = 15
    static let slots = 1 << slotBits
    static let maxKeyLength = 32
    static let maxIds = 8

    private let keys: UnsafeMutablePointer<UInt8>
    private let values: UnsafeMutablePointer<UInt32>
    /// Per slot: key length (low byte) and id count (next byte); 0 = empty.
    private let meta: UnsafeMutablePointer<UInt16>

    init() {
        keys = .allocate(capacity: PieceCache.slots * PieceCache.maxKeyLength)
        values = .allocate(capacity: PieceCache.slots * PieceCache.maxIds)
        meta = .allocate(capacity: PieceCache.slots)
        meta.initialize(repeating: 0, count: PieceCache.slots)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
        meta.deallocate()
    }

    @inline(__always)
    private static func slot(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        Int(truncatingIfNeeded: hashBytes(UnsafeRawPointer(p), n) >> 7) & (slots - 1)
    }

    @inline(__always)
    func lookup(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32]) -> Bool {
        let s = PieceCache.slot(p, n)
        let m = meta[s]
        guard Int(m & 0xFF) == n, bytesEqual(keys + s * PieceCache.maxKeyLength, p, n) else { return false }
        out.append(contentsOf: UnsafeBufferPointer(start: values + s * PieceCache.maxIds, count: Int(m >> 8)))
        return true
    }

    @inline(__always)
    func insert(_ p: UnsafePointer<UInt8>, _ n: Int, _ ids: ArraySlice<UInt32>) {
        guard n <= PieceCache.maxKeyLength, ids.count <= PieceCache.maxIds, !ids.isEmpty else { return }
        let s = PieceCache.slot(p, n)
        (keys + s * PieceCache.maxKeyLength).update(from: p, count: n)
        var j = s * PieceCache.maxIds
        for id in ids { values[j] = id; j += 1 }
        meta[s] = UInt16(n) | UInt16(ids.count) << 8
    }
}

// A direct-mapped cache of recent pre-tokens → ids, one per encoding thread.
//
// Natural text repeats its words: most pre-tokens of a document were seen a few lines earlier.
// A hit costs one hash and one short compare instead of a merge. Slots are fixed-size (a key of
// at most `maxKeyLength` bytes, at most `maxIds` ids), so the cache never allocates after start
// and a collision simply overwrites. Being a cache of a pure function, it cannot change output.

struct PieceCache {
    static let slotBits = 14
    static let slots = 1 << slotBits
    static let maxKeyLength = 24
    static let maxIds = 8

    private var keys = [UInt8](repeating: 0, count: slots * maxKeyLength)
    private var values = [UInt32](repeating: 0, count: slots * maxIds)
    /// Per slot: key length (low byte) and id count (next byte); 0 = empty.
    private var meta = [UInt16](repeating: 0, count: slots)

    @inline(__always)
    private static func slot(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        Int(truncatingIfNeeded: hashBytes(UnsafeRawPointer(p), n)) & (slots - 1)
    }

    @inline(__always)
    mutating func lookup(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32]) -> Bool {
        let s = PieceCache.slot(p, n)
        let m = meta[s]
        guard Int(m & 0xFF) == n else { return false }
        let hit = keys.withUnsafeBufferPointer { k -> Bool in
            guard let base = k.baseAddress else { return false }
            return memcmp(base + s * PieceCache.maxKeyLength, p, n) == 0
        }
        guard hit else { return false }
        let count = Int(m >> 8)
        values.withUnsafeBufferPointer { v in
            out.append(contentsOf: UnsafeBufferPointer(rebasing: v[(s * PieceCache.maxIds)..<(s * PieceCache.maxIds + count)]))
        }
        return true
    }

    @inline(__always)
    mutating func insert(_ p: UnsafePointer<UInt8>, _ n: Int, _ ids: ArraySlice<UInt32>) {
        guard n <= PieceCache.maxKeyLength, ids.count <= PieceCache.maxIds, ids.count > 0 else { return }
        let s = PieceCache.slot(p, n)
        keys.withUnsafeMutableBufferPointer { k in
            for i in 0..<n { k[s * PieceCache.maxKeyLength + i] = p[i] }
        }
        var j = s * PieceCache.maxIds
        for id in ids { values[j] = id; j += 1 }
        meta[s] = UInt16(n) | UInt16(ids.count) << 8
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

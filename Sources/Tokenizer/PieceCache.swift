// Caches of pre-token → ids, one set per encoding thread, in three levels.
//
// Natural text repeats its pre-tokens with a long-tailed (Zipf) distribution: a few thousand
// distinct pieces make up ~90% of the pieces of an 8 MB corpus. So:
//
//   - the hot level holds pieces of at most 8 bytes — ~90% of all pieces — with their bytes
//     packed into the key word and up to three ids packed into the value word: 16 bytes a
//     slot, four-way sets of one cache line, 16,384 slots, 256 KB: half of the benchmark
//     machine's L2 cache (512 KB a core). A hit is one probe and a compare or four, whether the
//     piece is a whole token or merged (the vocabulary's own tables, 0.5–4 MB each, miss the
//     L2 cache on most lookups). The probe's load is still the loop's most sampled
//     instruction (perf: 36% of the loop's samples on en/cl100k, the medium probe's 20%), but
//     halving this level and the medium one (128 KB each) was no faster: more pieces missed;
//     Pieces of ≤ 8 bytes with 4–8 ids (runs of spaces under GPT-2) go to its side table,
//     `WidePieceCache`, 64 KB;
//   - the medium level holds pieces of 9–16 bytes (~9% of en's pieces), whole tokens or not,
//     keyed by their first and last eight bytes: 8,192 slots in two-way sets, 256 KB;
//   - the second level holds pieces of up to 32 bytes that are not a single token, with up
//     to 8 ids (a CJK word, a long identifier, what the first levels cannot hold): 32,768
//     slots, direct-mapped.
// Hit rates, first 8 MB of each corpus, one fresh pass (`finetok bench --cache-stats`; the
// README has the table): hot 97.4% on en, 92.6–97.8% on code and zh; medium 80% on en, 35–51%
// on zh.
//
// Nothing is allocated after start, and a full set drops its least recently promoted entry.
// The caches hold a pure function of the bytes, so they cannot change the output.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sets of one 64-byte cache line each (eight words), zeroed, aligned to 64 bytes: the storage
/// of the hot and medium levels.
final class CacheLines {
    let words: UnsafeMutablePointer<UInt64>
    private let count: Int

    init(_ sets: Int) {
        count = 8 * sets
        words = UnsafeMutableRawPointer.allocate(byteCount: 8 * count, alignment: 64).bindMemory(to: UInt64.self, capacity: count)
        words.initialize(repeating: 0, count: count)
    }

    deinit { UnsafeMutableRawPointer(words).deallocate() }

    func clear() { words.update(repeating: 0, count: count) }
}

/// The hot level: pieces of 1–8 bytes → 1–3 ids, four-way set associative.
///
/// A set is one 64-byte cache line: four keys, then their four values. A lookup compares the
/// key with the set's ways in order; a hit in way k > 0 swaps it with way k - 1, so the pieces
/// hit most sit in way 0; a miss's result goes into way 0 and the others move down one (the
/// last is dropped). Simulated on the first 10 MB of en (gpt2 pieces of ≤ 8 bytes, 31 k
/// distinct): 7.8% of lookups missed with the former direct-mapped 8,192 slots, 3.9% with
/// these four ways over the same 128 KB, and 2.3% with 256 KB.
final class HotPieceCache {
    static let setBits = 12
    static let sets = 1 << setBits
    /// Largest id that fits in a slot (19 bits each).
    static let maxId: UInt32 = (1 << 19) - 1

    /// Set `s` at `slots + 8 * s`: keys (the piece's bytes packed little-endian, zero-padded)
    /// in words 0–3, values in words 4–7: bits 0–3 the piece's length (0 = empty), bits 4–5 the
    /// id count, then three 19-bit ids from bit 6.
    let slots: UnsafeMutablePointer<UInt64>

    private let lines = CacheLines(HotPieceCache.sets)

    init() { slots = lines.words }

    func clear() { lines.clear() }

    /// The first word of the set of a piece of `n` bytes packed into `key`.
    @inline(__always)
    static func set(_ key: UInt64, _ n: Int) -> Int {
        Int(truncatingIfNeeded: ((key ^ UInt64(truncatingIfNeeded: n) &<< 59) &* 0x9E37_79B9_7F4A_7C15) &>> (64 - UInt64(setBits))) &<< 3
    }

    /// Writes the ids of the piece (`key`, `n` bytes) to `dst` and returns their count, or
    /// returns 0 when the set `s` does not hold it.
    @inline(__always)
    static func lookup(_ slots: UnsafeMutablePointer<UInt64>, _ s: Int, _ key: UInt64, _ n: Int,
                       _ dst: UnsafeMutablePointer<UInt32>) -> Int {
        let set = slots + s
        let v0 = set[4]
        if set[0] == key && Int(truncatingIfNeeded: v0 & 0xF) == n { return emit(v0, dst) }
        return lookupWays(set, key, n, dst)
    }

    /// Ways 1–3 of `lookup`, with the promotion of a hit.
    @inline(never)
    static func lookupWays(_ set: UnsafeMutablePointer<UInt64>, _ key: UInt64, _ n: Int,
                           _ dst: UnsafeMutablePointer<UInt32>) -> Int {
        for k in 1..<4 {
            let v = set[4 &+ k]
            if set[k] == key && Int(truncatingIfNeeded: v & 0xF) == n {
                set[k] = set[k &- 1]
                set[4 &+ k] = set[3 &+ k]
                set[k &- 1] = key
                set[3 &+ k] = v
                return emit(v, dst)
            }
        }
        return 0
    }

    /// Writes the value's ids to `dst` (always three words; the count says how many are real).
    @inline(__always)
    static func emit(_ v: UInt64, _ dst: UnsafeMutablePointer<UInt32>) -> Int {
        dst[0] = UInt32(truncatingIfNeeded: v &>> 6) & maxId
        dst[1] = UInt32(truncatingIfNeeded: v &>> 25) & maxId
        dst[2] = UInt32(truncatingIfNeeded: v &>> 44) & maxId
        return Int(truncatingIfNeeded: v &>> 4) & 3
    }

    /// Puts `ids[0..<count]` for the piece into way 0 of set `s` when they fit (1–3 ids of
    /// ≤ 19 bits); the set's other ways move down one.
    @inline(__always)
    func insert(set s: Int, key: UInt64, length n: Int, _ ids: UnsafePointer<UInt32>, _ count: Int) {
        guard count >= 1 && count <= 3 else { return }
        var v = UInt64(n) | UInt64(count) << 4
        for k in 0..<count {
            guard ids[k] <= HotPieceCache.maxId else { return }
            v |= UInt64(ids[k]) << UInt64(6 + 19 * k)
        }
        let set = slots + s
        set[3] = set[2]; set[7] = set[6]
        set[2] = set[1]; set[6] = set[5]
        set[1] = set[0]; set[5] = set[4]
        set[0] = key; set[4] = v
    }
}

/// The hot level's side table: pieces of 1–8 bytes with 4–8 ids, which a hot slot cannot hold.
/// Few distinct pieces, but frequent in code: GPT-2 has no tokens for runs of spaces, so each
/// indentation ("\n" and seven spaces: 38 k of code's 1.8 M pieces) is one such piece. Without
/// this table each of them missed the hot level and read three lines of the second level
/// (~5% of code's pieces). 1,024 direct-mapped entries of one 64-byte line each (64 KB): the
/// key, then `length | count << 8`, then the ids, two to a word.
final class WidePieceCache {
    static let entryBits = 10
    static let minIds = 4, maxIds = 8

    private let lines = CacheLines(1 << WidePieceCache.entryBits)

    func clear() { lines.clear() }

    @inline(__always)
    private func entry(_ key: UInt64, _ n: Int) -> UnsafeMutablePointer<UInt64> {
        let h = (key ^ UInt64(truncatingIfNeeded: n) &<< 59) &* 0xC2B2_AE3D_27D4_EB4F
        return lines.words + (Int(truncatingIfNeeded: h &>> (64 - UInt64(WidePieceCache.entryBits))) &<< 3)
    }

    /// Writes the piece's ids to `dst` (room for 8) and returns their count, or 0.
    @inline(__always)
    func lookup(_ key: UInt64, _ n: Int, _ dst: UnsafeMutablePointer<UInt32>) -> Int {
        let e = entry(key, n)
        let meta = e[1]
        guard e[0] == key && Int(truncatingIfNeeded: meta & 0xFF) == n else { return 0 }
        for k in 0..<4 {
            let w = e[2 &+ k]
            dst[2 &* k] = UInt32(truncatingIfNeeded: w)
            dst[2 &* k &+ 1] = UInt32(truncatingIfNeeded: w &>> 32)
        }
        return Int(truncatingIfNeeded: meta &>> 8)
    }

    /// Keeps `ids[0..<count]` for the piece when 4 ≤ count ≤ 8 (replacing the entry's piece).
    @inline(__always)
    func insert(_ key: UInt64, _ n: Int, _ ids: UnsafePointer<UInt32>, _ count: Int) {
        guard count >= WidePieceCache.minIds && count <= WidePieceCache.maxIds else { return }
        let e = entry(key, n)
        e[0] = key
        e[1] = UInt64(n) | UInt64(count) << 8
        for k in 0..<4 {
            let lo = 2 &* k < count ? UInt64(ids[2 &* k]) : 0
            let hi = 2 &* k &+ 1 < count ? UInt64(ids[2 &* k &+ 1]) : 0
            e[2 &+ k] = lo | hi << 32
        }
    }
}

/// The medium level: pieces of 9–16 bytes → 1–5 ids, whole tokens included, two-way set
/// associative with the hot level's promotion and replacement.
///
/// A piece is keyed by its first and its last eight bytes (they overlap below 16 bytes), which
/// with its length determine it. A set is one 64-byte cache line: per way the two key words,
/// then two value words: bits 0–4 of the first the length (0 = empty), bits 5–7 the id count,
/// ids 0 and 1 from bits 8 and 27; ids 2–4 in the second from bits 0, 19 and 38. Simulated on
/// the first 8 MB of en (gpt2, 156 k pieces of 9–16 bytes, 20 k distinct): 20% of lookups
/// miss at 256 KB (the vocabulary's medium-token table and the second level answered all
/// before).
final class MediumPieceCache {
    static let setBits = 12
    static let sets = 1 << setBits
    static let maxIds = 5

    let slots: UnsafeMutablePointer<UInt64>

    private let lines = CacheLines(MediumPieceCache.sets)

    init() { slots = lines.words }

    func clear() { lines.clear() }

    /// The first word of the set of a piece of `n` bytes whose first and last eight are `a`, `b`.
    @inline(__always)
    static func set(_ a: UInt64, _ b: UInt64, _ n: Int) -> Int {
        let h = (a ^ (b &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(truncatingIfNeeded: n) &<< 59) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: h &>> (64 - UInt64(setBits))) &<< 3
    }

    /// Writes the piece's ids to `dst` (room for 6) and returns their count, or 0 when the set
    /// `s` does not hold it; a hit in way 1 moves to way 0.
    @inline(__always)
    static func lookup(_ slots: UnsafeMutablePointer<UInt64>, _ s: Int, _ a: UInt64, _ b: UInt64, _ n: Int,
                       _ dst: UnsafeMutablePointer<UInt32>) -> Int {
        let set = slots + s
        let v0 = set[2]
        if set[0] == a && set[1] == b && Int(truncatingIfNeeded: v0 & 0x1F) == n { return emit(v0, set[3], dst) }
        let v1 = set[6]
        if set[4] == a && set[5] == b && Int(truncatingIfNeeded: v1 & 0x1F) == n {
            let w1 = set[7]
            set[4] = set[0]; set[5] = set[1]; set[6] = v0; set[7] = set[3]
            set[0] = a; set[1] = b; set[2] = v1; set[3] = w1
            return emit(v1, w1, dst)
        }
        return 0
    }

    /// Writes the ids of a value to `dst` (always five words; the count says how many are real).
    @inline(__always)
    static func emit(_ v: UInt64, _ w: UInt64, _ dst: UnsafeMutablePointer<UInt32>) -> Int {
        let m = HotPieceCache.maxId
        dst[0] = UInt32(truncatingIfNeeded: v &>> 8) & m
        dst[1] = UInt32(truncatingIfNeeded: v &>> 27) & m
        dst[2] = UInt32(truncatingIfNeeded: w) & m
        dst[3] = UInt32(truncatingIfNeeded: w &>> 19) & m
        dst[4] = UInt32(truncatingIfNeeded: w &>> 38) & m
        return Int(truncatingIfNeeded: v &>> 5) & 7
    }

    /// Puts `ids[0..<count]` for the piece into way 0 of set `s` when they fit (1–5 ids of
    /// ≤ 19 bits); way 0 moves to way 1.
    @inline(__always)
    func insert(set s: Int, _ a: UInt64, _ b: UInt64, length n: Int, _ ids: UnsafePointer<UInt32>, _ count: Int) {
        guard count >= 1 && count <= MediumPieceCache.maxIds else { return }
        var v = UInt64(n) | UInt64(count) << 5
        var w: UInt64 = 0
        for k in 0..<count {
            guard ids[k] <= HotPieceCache.maxId else { return }
            if k < 2 { v |= UInt64(ids[k]) << UInt64(8 + 19 * k) } else { w |= UInt64(ids[k]) << UInt64(19 * (k - 2)) }
        }
        let set = slots + s
        set[4] = set[0]; set[5] = set[1]; set[6] = set[2]; set[7] = set[3]
        set[0] = a; set[1] = b; set[2] = v; set[3] = w
    }
}

/// The second level: pieces of up to `maxKeyLength` bytes → up to `maxIds` ids.
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

    func clear() { meta.update(repeating: 0, count: PieceCache.slots) }

    deinit {
        keys.deallocate()
        values.deallocate()
        meta.deallocate()
    }

    @inline(__always)
    private static func slot(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        Int(truncatingIfNeeded: hashBytes(UnsafeRawPointer(p), n) >> 7) & (slots - 1)
    }

    /// Writes the cached ids of `p[0..<n]` to `dst` and returns their count, or 0 on a miss.
    @inline(__always)
    func lookup(_ p: UnsafePointer<UInt8>, _ n: Int, dst: UnsafeMutablePointer<UInt32>) -> Int {
        let s = PieceCache.slot(p, n)
        let m = meta[s]
        guard Int(m & 0xFF) == n, bytesEqual(keys + s * PieceCache.maxKeyLength, p, n) else { return 0 }
        let count = Int(m >> 8)
        dst.update(from: values + s * PieceCache.maxIds, count: count)
        return count
    }

    @inline(__always)
    func insert(_ p: UnsafePointer<UInt8>, _ n: Int, _ ids: UnsafePointer<UInt32>, _ count: Int) {
        guard n <= PieceCache.maxKeyLength, count <= PieceCache.maxIds, count > 0 else { return }
        let s = PieceCache.slot(p, n)
        (keys + s * PieceCache.maxKeyLength).update(from: p, count: n)
        (values + s * PieceCache.maxIds).update(from: ids, count: count)
        meta[s] = UInt16(n) | UInt16(count) << 8
    }
}

// Flat open-addressing hash tables for the hot path: token bytes → id (the merge rules are in
// PairTable.swift). No `String`, no per-entry allocation; linear probing over a power-of-two
// table kept at most 80% full (smaller tables stay in the shared cache, which on the benchmark
// machine outweighed the longer probes: PairTable.swift has the numbers). Each table owns one
// raw allocation, written once at load and only read afterwards, so lookups pay no bounds,
// uniqueness or exclusivity checks.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always)
func mix64(_ x: UInt64) -> UInt64 {
    var z = x &* 0x9E37_79B9_7F4A_7C15
    z ^= z >> 29
    return z
}

/// Hash of a byte string (8 bytes at a time).
@inline(__always)
func hashBytes(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 {
    var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(truncatingIfNeeded: n)
    var i = 0
    while i + 8 <= n {
        h = mix64(h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        i += 8
    }
    if i < n {
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
            shift += 8
            i += 1
        }
        h = mix64(h ^ tail ^ 0xFF)
    }
    return h ^ (h >> 32)
}

/// Whether `a[0..<n]` equals `b[0..<n]`, compared 8 bytes at a time (short keys make a libc
/// `memcmp` call cost more than the comparison).
@inline(__always)
func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 8 <= n {
        if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
        i += 8
    }
    if i + 4 <= n {
        if ra.loadUnaligned(fromByteOffset: i, as: UInt32.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt32.self) { return false }
        i += 4
    }
    while i < n {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}

/// Every token's bytes, stored end to end: token `id` is `bytes[offsets[id]..<offsets[id+1]]`.
final class TokenStore: @unchecked Sendable {
    let bytes: UnsafeMutablePointer<UInt8>
    let offsets: UnsafeMutablePointer<UInt32>
    /// Whether an id has a token (vocabularies may have gaps).
    let present: [Bool]
    let count: Int

    /// Builds from `tokens[id]` (nil for a gap), through one buffer of all their bytes.
    convenience init(_ tokens: [[UInt8]?]) {
        var all: [UInt8] = []
        let ranges = tokens.map { t -> Range<Int>? in
            guard let t else { return nil }
            all += t
            return all.count - t.count..<all.count
        }
        self.init(source: all, ranges: ranges)
    }

    /// Builds from the bytes of each id at `ranges[id]` of `source` (nil for a gap): a loader
    /// that decodes every token into one buffer makes no array per token.
    init(source: UnsafePointer<UInt8>, ranges: [Range<Int>?]) {
        count = ranges.count
        present = ranges.map { $0 != nil }
        var total = 0
        for r in ranges { total += r?.count ?? 0 }
        bytes = .allocate(capacity: max(total, 1))
        offsets = .allocate(capacity: ranges.count + 1)
        var at = 0
        offsets[0] = 0
        for (id, r) in ranges.enumerated() {
            if let r {
                (bytes + at).initialize(from: source + r.lowerBound, count: r.count)
                at += r.count
            }
            offsets[id + 1] = UInt32(at)
        }
    }

    deinit {
        bytes.deallocate()
        offsets.deallocate()
    }

    @inline(__always)
    func range(_ id: Int) -> Range<Int> { Int(offsets[id])..<Int(offsets[id + 1]) }

    /// The ids cut in two ranges of about equal work for a merge of every token's bytes (~n²
    /// for a token of n bytes: the load's per-token merges run on two threads).
    func halvesOfEqualMergeWork() -> [Range<Int>] {
        var work = 0
        for id in 0..<count { work += range(id).count * range(id).count }
        var mid = 0, below = 0
        while mid < count && 2 * below < work {
            below += range(mid).count * range(mid).count
            mid += 1
        }
        return [0..<mid, mid..<count]
    }

    func tokenBytes(_ id: Int) -> [UInt8] { Array(UnsafeBufferPointer(start: bytes + Int(offsets[id]), count: range(id).count)) }
}

/// Token bytes → id, for whole-piece lookups. Keys live in the `TokenStore`; each slot holds
/// `hash32 << 32 | id`, so most mismatches are rejected without touching the bytes.
final class BytesToId: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<UInt64>
    private let mask: Int
    private let store: TokenStore
    static let empty = UInt32.max
    /// Tokens whose bytes equal a lower id's (not indexed).
    private(set) var duplicates = 0
    /// The longest token's length: a longer piece is no token without being hashed (a 1 MB
    /// piece took ~1.6 M instructions to hash).
    private var longest = 0

    /// Indexes every present token. When two ids share bytes, the lower id is kept.
    init(_ store: TokenStore) {
        self.store = store
        var size = 16
        while size * 4 < store.count * 5 { size <<= 1 }
        slots = .allocate(capacity: size)
        slots.initialize(repeating: .max, count: size)
        mask = size - 1
        for id in 0..<store.count where store.present[id] {
            let r = store.range(id)
            if get(store.bytes + r.lowerBound, r.count) != BytesToId.empty { duplicates += 1; continue }
            let h = hashBytes(store.bytes + r.lowerBound, r.count)
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] != .max { i = (i + 1) & mask }
            slots[i] = (h & 0xFFFF_FFFF) << 32 | UInt64(id)
            longest = max(longest, r.count)
        }
    }

    deinit { slots.deallocate() }

    /// The id whose bytes equal `p[0..<n]`, or `BytesToId.empty`.
    @inline(__always)
    func get(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 {
        if n > longest { return BytesToId.empty }
        let h = hashBytes(p, n)
        let tag = h & 0xFFFF_FFFF
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = slots[i]
            if e == .max { return BytesToId.empty }
            if e >> 32 == tag {
                let id = Int(e & 0xFFFF_FFFF)
                let lo = Int(store.offsets[id]), hi = Int(store.offsets[id + 1])
                if hi - lo == n && bytesEqual(store.bytes + lo, p, n) { return UInt32(id) }
            }
            i = (i + 1) & mask
        }
    }
}

/// Up to 8 bytes packed little-endian into a UInt64 (the rest zero), without reading past `n`.
@inline(__always)
func packShort(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
    let r = UnsafeRawPointer(p)
    if n >= 4 {
        let lo = UInt64(r.loadUnaligned(as: UInt32.self))
        let hi = UInt64(r.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
        return lo | hi << (UInt64(n - 4) * 8)
    }
    let a = UInt64(p[0]), b = UInt64(p[n >> 1]), c = UInt64(p[n - 1])
    return a | b << (UInt64(n >> 1) * 8) | c << (UInt64(n - 1) * 8)
}

/// Tokens of 2 to 8 bytes → id, with the bytes packed into the key: one probe, one compare, no
/// pointer chasing. Most pre-tokens of natural text are such tokens.
final class ShortTokens: @unchecked Sendable {
    /// Per slot: key (packed bytes), then `length << 32 | id`; empty slots have length 0.
    private let slots: UnsafeMutablePointer<UInt64>
    private let mask: Int

    init(_ store: TokenStore, keep: (Int) -> Bool) {
        var n = 0
        for id in 0..<store.count where store.present[id] && (2...8).contains(store.range(id).count) && keep(id) { n += 1 }
        var size = 16
        while size * 4 < n * 5 { size <<= 1 }
        slots = .allocate(capacity: 2 * size)
        slots.initialize(repeating: 0, count: 2 * size)
        mask = size - 1
        for id in 0..<store.count where store.present[id] && keep(id) {
            let r = store.range(id)
            guard (2...8).contains(r.count) else { continue }
            let key = packShort(store.bytes + r.lowerBound, r.count)
            var i = ShortTokens.home(key, r.count) & mask
            var duplicate = false
            while slots[2 * i + 1] != 0 {
                if slots[2 * i] == key && Int(slots[2 * i + 1] >> 32) == r.count { duplicate = true; break }
                i = (i + 1) & mask
            }
            if duplicate { continue }  // the lower id stays
            slots[2 * i] = key
            slots[2 * i + 1] = UInt64(r.count) << 32 | UInt64(id)
        }
    }

    deinit { slots.deallocate() }

    @inline(__always)
    static func home(_ key: UInt64, _ n: Int) -> Int { Int(truncatingIfNeeded: mix64(key ^ UInt64(n) << 59) >> 24) }

    /// The id of the token with exactly these 2–8 bytes, or `BytesToId.empty`.
    @inline(__always)
    func get(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 {
        let key = packShort(p, n)
        var i = ShortTokens.home(key, n) & mask
        while true {
            let v = slots[2 * i + 1]
            if v == 0 { return BytesToId.empty }
            if slots[2 * i] == key && Int(v >> 32) == n { return UInt32(truncatingIfNeeded: v) }
            i = (i + 1) & mask
        }
    }
}

/// Tokens of 9 to 16 bytes → id, keyed by two overlapping 8-byte loads (first and last eight
/// bytes, which with the length determine the token): one probe, no pointer chasing.
final class MediumTokens: @unchecked Sendable {
    /// Per slot: first 8 bytes, last 8 bytes, `length << 32 | id`; empty slots have length 0.
    private let slots: UnsafeMutablePointer<UInt64>
    private let mask: Int

    init(_ store: TokenStore, keep: (Int) -> Bool) {
        var n = 0
        for id in 0..<store.count where store.present[id] && (9...16).contains(store.range(id).count) && keep(id) { n += 1 }
        var size = 16
        while size * 4 < n * 5 { size <<= 1 }
        slots = .allocate(capacity: 3 * size)
        slots.initialize(repeating: 0, count: 3 * size)
        mask = size - 1
        for id in 0..<store.count where store.present[id] && keep(id) {
            let r = store.range(id)
            guard (9...16).contains(r.count) else { continue }
            let p = UnsafeRawPointer(store.bytes + r.lowerBound)
            let a = p.loadUnaligned(as: UInt64.self), b = p.loadUnaligned(fromByteOffset: r.count - 8, as: UInt64.self)
            var i = MediumTokens.home(a, b, r.count) & mask
            var duplicate = false
            while slots[3 * i + 2] != 0 {
                if slots[3 * i] == a && slots[3 * i + 1] == b && Int(slots[3 * i + 2] >> 32) == r.count { duplicate = true; break }
                i = (i + 1) & mask
            }
            if duplicate { continue }
            slots[3 * i] = a
            slots[3 * i + 1] = b
            slots[3 * i + 2] = UInt64(r.count) << 32 | UInt64(id)
        }
    }

    deinit { slots.deallocate() }

    @inline(__always)
    static func home(_ a: UInt64, _ b: UInt64, _ n: Int) -> Int {
        Int(truncatingIfNeeded: mix64(a ^ mix64(b ^ UInt64(n))) >> 24)
    }

    /// The id of the token with exactly these 9–16 bytes, or `BytesToId.empty`.
    @inline(__always)
    func get(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 {
        let r = UnsafeRawPointer(p)
        let a = r.loadUnaligned(as: UInt64.self), b = r.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        var i = MediumTokens.home(a, b, n) & mask
        while true {
            let v = slots[3 * i + 2]
            if v == 0 { return BytesToId.empty }
            if slots[3 * i] == a && slots[3 * i + 1] == b && Int(v >> 32) == n { return UInt32(truncatingIfNeeded: v) }
            i = (i + 1) & mask
        }
    }
}

/// Merge rules between two single bytes, as a dense 256 × 256 table.
final class BytePairTable: @unchecked Sendable {
    let values: UnsafeMutablePointer<UInt64>

    init(pairs: PairTable, byteIds: [UInt32]) {
        values = .allocate(capacity: 65536)
        for a in 0..<256 {
            for b in 0..<256 {
                let l = byteIds[a], r = byteIds[b]
                values[a << 8 | b] = l == UInt32.max || r == UInt32.max ? PairTable.missing : pairs.get(l, r)
            }
        }
    }

    deinit { values.deallocate() }
}

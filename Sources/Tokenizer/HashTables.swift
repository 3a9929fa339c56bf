// Flat open-addressing hash tables for the hot path: merge pairs keyed by packed integers, and
// token bytes → id. No `String`, no per-entry allocation, linear probing over a power-of-two
// array kept at most half full.

@inline(__always)
func mix64(_ x: UInt64) -> UInt64 {
    var z = x &* 0x9E37_79B9_7F4A_7C15
    z ^= z >> 29
    return z
}

/// Hash of a byte string (8 bytes at a time).
@inline(__always)
func hashBytes(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 {
    var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(n)
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

/// Merge rules: the pair of ids (left, right) → (rank, merged id), packed as `rank << 32 | id`.
/// A lower rank merges first.
struct PairTable: Sendable {
    static let missing: UInt64 = .max
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: .max, count: size)
        values = [UInt64](repeating: .max, count: size)
        mask = size - 1
    }

    @inline(__always)
    static func key(_ left: UInt32, _ right: UInt32) -> UInt64 { UInt64(left) << 32 | UInt64(right) }

    /// Inserts or replaces (a later rule for the same pair replaces the earlier, as in HF).
    mutating func set(_ left: UInt32, _ right: UInt32, rank: UInt32, id: UInt32) {
        let k = PairTable.key(left, right)
        var i = Int(truncatingIfNeeded: mix64(k) >> 20) & mask
        while keys[i] != .max && keys[i] != k { i = (i + 1) & mask }
        if keys[i] == .max { count += 1 }
        keys[i] = k
        values[i] = UInt64(rank) << 32 | UInt64(id)
    }

    /// `rank << 32 | id` for the pair, or `PairTable.missing`.
    @inline(__always)
    func get(_ left: UInt32, _ right: UInt32) -> UInt64 {
        let k = PairTable.key(left, right)
        return keys.withUnsafeBufferPointer { kp in
            var i = Int(truncatingIfNeeded: mix64(k) >> 20) & mask
            while true {
                let e = kp[i]
                if e == k { return values.withUnsafeBufferPointer { $0[i] } }
                if e == .max { return PairTable.missing }
                i = (i + 1) & mask
            }
        }
    }
}

/// Every token's bytes, stored end to end: token `id` is `bytes[offsets[id]..<offsets[id+1]]`.
struct TokenStore: Sendable {
    var bytes: [UInt8] = []
    var offsets: [UInt32] = [0]
    /// Whether an id has a token (vocabularies may have gaps).
    var present: [Bool] = []

    var count: Int { present.count }

    init(count: Int) {
        present = [Bool](repeating: false, count: count)
    }

    /// Builds from `tokens[id]` (nil for a gap).
    init(_ tokens: [[UInt8]?]) {
        present = tokens.map { $0 != nil }
        offsets.reserveCapacity(tokens.count + 1)
        for t in tokens {
            if let t { bytes.append(contentsOf: t) }
            offsets.append(UInt32(bytes.count))
        }
    }

    @inline(__always)
    func range(_ id: Int) -> Range<Int> { Int(offsets[id])..<Int(offsets[id + 1]) }
}

/// Token bytes → id, for whole-piece lookups. Keys live in the `TokenStore`; slots hold ids.
struct BytesToId: Sendable {
    private var slots: [UInt32]
    private var hashes: [UInt32]
    private let mask: Int
    static let empty = UInt32.max

    /// Indexes every present token of `store`. When two ids share bytes, the lower id is kept.
    init(_ store: TokenStore) {
        var size = 16
        while size < store.count * 2 { size <<= 1 }
        slots = [UInt32](repeating: BytesToId.empty, count: size)
        hashes = [UInt32](repeating: 0, count: size)
        mask = size - 1
        store.bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            for id in 0..<store.count where store.present[id] {
                let r = store.range(id)
                let h = hashBytes(base + r.lowerBound, r.count)
                var i = Int(truncatingIfNeeded: h) & mask
                var duplicate = false
                while slots[i] != BytesToId.empty {
                    let other = store.range(Int(slots[i]))
                    if hashes[i] == UInt32(truncatingIfNeeded: h) && other.count == r.count
                        && memcmp(base + other.lowerBound, base + r.lowerBound, r.count) == 0 {
                        duplicate = true
                        break
                    }
                    i = (i + 1) & mask
                }
                if !duplicate {
                    slots[i] = UInt32(id)
                    hashes[i] = UInt32(truncatingIfNeeded: h)
                }
            }
        }
    }

    /// The id whose bytes equal `p[0..<n]`, or `BytesToId.empty`.
    @inline(__always)
    func get(_ p: UnsafeRawPointer, _ n: Int, store: UnsafeRawBufferPointer, offsets: UnsafeBufferPointer<UInt32>) -> UInt32 {
        let h = hashBytes(p, n)
        let h32 = UInt32(truncatingIfNeeded: h)
        return slots.withUnsafeBufferPointer { sp in
            hashes.withUnsafeBufferPointer { hp in
                var i = Int(truncatingIfNeeded: h) & mask
                while true {
                    let id = sp[i]
                    if id == BytesToId.empty { return id }
                    if hp[i] == h32 {
                        let lo = Int(offsets[Int(id)]), hi = Int(offsets[Int(id) + 1])
                        if hi - lo == n, let base = store.baseAddress, memcmp(base + lo, p, n) == 0 { return id }
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

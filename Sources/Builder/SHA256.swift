// SHA-256 (FIPS 180-4), for the manifest's file identities. Foundation on Linux has no digest API
// and finetok takes no dependencies, so here are the ~60 lines. On x86-64 CPUs with SHA-NI the
// blocks go to the SHA256Hardware target instead (one C function; Swift cannot emit those
// instructions): ~1.5 GB/s against ~200 MB/s, which mattered because `build` hashes every input
// and this loop ran about as fast as the encoder. The tests compare the two on random inputs.

import SHA256Hardware

struct SHA256 {
    /// Whether this CPU runs the hardware blocks (checked once).
    static let hardwareAvailable = finetok_sha256_hardware_available() == 1
    /// Use the hardware blocks (false: the portable loop below, for tests).
    private let hardware: Bool

    init(hardware: Bool = SHA256.hardwareAvailable) { self.hardware = hardware && SHA256.hardwareAvailable }

    private var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    private var buffer: [UInt8] = []
    private var length: UInt64 = 0

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        length += UInt64(bytes.count)
        if buffer.isEmpty, let done = bytes.withContiguousStorageIfAvailable({ p -> Int in
            // Whole blocks straight from the caller's memory.
            guard let base = p.baseAddress else { return 0 }
            let whole = p.count / 64
            blocks(base, whole)
            return whole * 64
        }) {
            buffer.append(contentsOf: bytes.dropFirst(done))
            return
        }
        buffer.append(contentsOf: bytes)
        let whole = buffer.count / 64
        buffer.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else { return }
            blocks(base, whole)
        }
        buffer.removeFirst(whole * 64)
    }

    /// Compresses `count` 64-byte blocks. The state stays in locals across blocks; the message
    /// schedule is a 64-word stack array; Ch and Maj in their two-operation forms.
    private mutating func blocks(_ chunk: UnsafePointer<UInt8>, _ count: Int) {
        guard count > 0 else { return }
        if hardware {
            h.withUnsafeMutableBufferPointer { state in
                SHA256.k.withUnsafeBufferPointer { finetok_sha256_hardware_blocks(state.baseAddress, chunk, count, $0.baseAddress) }
            }
            return
        }
        @inline(__always) func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
        var h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7]
        let raw = UnsafeRawPointer(chunk)
        SHA256.k.withUnsafeBufferPointer { k in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                for n in 0..<count {
                    let block = raw + 64 * n
                    for t in 0..<16 { w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: 4 * t, as: UInt32.self)) }
                    for t in 16..<64 {
                        let x = w[t - 15], y = w[t - 2]
                        let s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3)
                        let s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >> 10)
                        w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                    }
                    var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7
                    for t in 0..<64 {
                        let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ (g ^ (e & (f ^ g))) &+ k[t] &+ w[t]
                        let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) | (c & (a | b)))
                        hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                    }
                    h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d; h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= hh
                }
            }
        }
        h = [h0, h1, h2, h3, h4, h5, h6, h7]
    }

    /// The digest as 64 lowercase hex digits.
    mutating func hexDigest() -> String {
        let bits = length &* 8
        var pad: [UInt8] = [0x80]
        while (Int(length) + pad.count) % 64 != 56 { pad.append(0) }
        for i in (0..<8).reversed() { pad.append(UInt8(truncatingIfNeeded: bits >> (UInt64(i) * 8))) }
        let saved = length
        update(pad)
        length = saved
        return h.map { word in
            let s = String(word, radix: 16)
            return String(repeating: "0", count: 8 - s.count) + s
        }.joined()
    }

    static func hex(of bytes: [UInt8]) -> String {
        var s = SHA256()
        s.update(bytes)
        return s.hexDigest()
    }
}

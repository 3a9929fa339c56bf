// Train/test split, identical to HF `datasets`' `train_test_split(test_size, shuffle=True, seed)`:
// `numpy.random.default_rng(seed).permutation(n)`, test = the first ceil(n·test_size) indices,
// train = the rest, both in permutation order.
//
// numpy's path, reproduced bit for bit:
//   SeedSequence(seed)     entropy → a 4-word pool (hashmix/mix over UInt32), generate_state(4, uint64)
//   PCG64                  128-bit LCG seeded from those words, XSL-RR 64-bit output
//   Generator.permutation  arange(n), then Fisher–Yates from the end: j = random_interval(i),
//                          which draws masked 32-bit values (64-bit above 2^32) until one is ≤ i

/// numpy's `SeedSequence` for a non-negative integer seed (no spawn key).
struct NumpySeedSequence {
    static let initA: UInt32 = 0x43B0_D7E5, multA: UInt32 = 0x931E_8875
    static let initB: UInt32 = 0x8B51_F9DD, multB: UInt32 = 0x58F3_8DED
    static let mixMultL: UInt32 = 0xCA01_F9DD, mixMultR: UInt32 = 0x4973_F715
    static let poolSize = 4

    var pool = [UInt32](repeating: 0, count: poolSize)

    init(seed: UInt64) {
        // The integer as little-endian 32-bit words ([0] for zero).
        var entropy: [UInt32] = []
        var s = seed
        repeat {
            entropy.append(UInt32(truncatingIfNeeded: s))
            s >>= 32
        } while s > 0
        var hashConst = NumpySeedSequence.initA
        func hashmix(_ v: UInt32) -> UInt32 {
            var value = v ^ hashConst
            hashConst = hashConst &* NumpySeedSequence.multA
            value = value &* hashConst
            value ^= value >> 16
            return value
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            var r = NumpySeedSequence.mixMultL &* x &- NumpySeedSequence.mixMultR &* y
            r ^= r >> 16
            return r
        }
        for i in 0..<NumpySeedSequence.poolSize {
            pool[i] = hashmix(i < entropy.count ? entropy[i] : 0)
        }
        for src in 0..<NumpySeedSequence.poolSize {
            for dst in 0..<NumpySeedSequence.poolSize where src != dst {
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
            }
        }
        for src in NumpySeedSequence.poolSize..<max(entropy.count, NumpySeedSequence.poolSize) {
            for dst in 0..<NumpySeedSequence.poolSize {
                pool[dst] = mix(pool[dst], hashmix(entropy[src]))
            }
        }
    }

    /// `generate_state(n, np.uint64)`.
    func generateState64(_ n: Int) -> [UInt64] {
        var hashConst = NumpySeedSequence.initB
        var words: [UInt32] = []
        for i in 0..<(2 * n) {
            var v = pool[i % NumpySeedSequence.poolSize]
            v ^= hashConst
            hashConst = hashConst &* NumpySeedSequence.multB
            v = v &* hashConst
            v ^= v >> 16
            words.append(v)
        }
        return (0..<n).map { UInt64(words[2 * $0]) | UInt64(words[2 * $0 + 1]) << 32 }
    }
}

/// numpy's PCG64 bit generator (PCG XSL-RR 128/64), with its 32-bit draw cache.
struct NumpyPCG64 {
    private var stateHi: UInt64 = 0, stateLo: UInt64 = 0
    private var incHi: UInt64 = 0, incLo: UInt64 = 0
    private var cached32: UInt32?
    static let multHi: UInt64 = 2_549_297_995_355_413_924, multLo: UInt64 = 4_865_540_595_714_422_341

    /// `numpy.random.default_rng(seed)`'s bit generator.
    init(seed: UInt64) {
        let s = NumpySeedSequence(seed: seed).generateState64(4)
        // pcg_setseq_128_srandom_r(initstate = s[0]:s[1], initseq = s[2]:s[3])
        incHi = s[2] << 1 | s[3] >> 63
        incLo = s[3] << 1 | 1
        step()
        let (lo, carry) = stateLo.addingReportingOverflow(s[1])
        stateLo = lo
        stateHi = stateHi &+ s[0] &+ (carry ? 1 : 0)
        step()
    }

    /// state = state · mult + inc (mod 2^128)
    private mutating func step() {
        let lo = stateLo.multipliedFullWidth(by: NumpyPCG64.multLo)
        var hi = lo.high &+ stateHi &* NumpyPCG64.multLo &+ stateLo &* NumpyPCG64.multHi
        let (newLo, carry) = lo.low.addingReportingOverflow(incLo)
        hi = hi &+ incHi &+ (carry ? 1 : 0)
        stateLo = newLo
        stateHi = hi
    }

    mutating func next64() -> UInt64 {
        step()
        let x = stateHi ^ stateLo
        let rot = stateHi >> 58
        return x >> rot | x << ((64 &- rot) & 63)
    }

    mutating func next32() -> UInt32 {
        if let c = cached32 {
            cached32 = nil
            return c
        }
        let v = next64()
        cached32 = UInt32(truncatingIfNeeded: v >> 32)
        return UInt32(truncatingIfNeeded: v)
    }

    /// numpy's `random_interval(max)`: uniform in 0...max by masked rejection.
    mutating func interval(_ max: UInt64) -> UInt64 {
        if max == 0 { return 0 }
        var mask = max
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4
        mask |= mask >> 8; mask |= mask >> 16; mask |= mask >> 32
        if max <= 0xFFFF_FFFF {
            while true {
                let v = UInt64(next32()) & mask
                if v <= max { return v }
            }
        }
        while true {
            let v = next64() & mask
            if v <= max { return v }
        }
    }
}

public enum TrainTestSplit {
    /// `numpy.random.default_rng(seed).permutation(n)`.
    /// - Complexity: O(n) time, 8 bytes per index.
    public static func permutation(_ n: Int, seed: UInt64) -> [Int] {
        var a = Array(0..<n)
        var rng = NumpyPCG64(seed: seed)
        var i = n - 1
        while i >= 1 {
            let j = Int(rng.interval(UInt64(i)))
            a.swapAt(i, j)
            i -= 1
        }
        return a
    }

    /// The test set's size: `ceil(n · testSize)`, computed in Double as HF `datasets` does.
    public static func testCount(_ n: Int, testSize: Double) -> Int {
        Int((testSize * Double(n)).rounded(.up))
    }

    /// (train, test) row indices, in HF `datasets`' order.
    public static func split(_ n: Int, testSize: Double, seed: UInt64) -> (train: [Int], test: [Int]) {
        if testSize <= 0 { return (Array(0..<n), []) }
        let perm = permutation(n, seed: seed)
        let k = min(n, testCount(n, testSize: testSize))
        return (Array(perm[k...]), Array(perm[..<k]))
    }
}

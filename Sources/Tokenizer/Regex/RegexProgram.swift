// A compiled regex: a flat instruction array (the main program followed by one sub-program per
// look-around and atomic body), the character classes as bitmaps, and literal pools. Immutable
// once built; shared by all threads. RegexMatcher.swift runs it.
//
// Instructions (each names its continuation explicitly in `next`, so a loop body can be copied
// with its edges rewired, see RegexCompiler.emptyCheckedLoop):
//
//   bytes   a=pool offset b=length       the exact UTF-8 bytes (forward)
//   set     a=class                      one scalar in the class
//   fold    a=fold pool offset b=count   a case-fold chunk (`ss`: "ß", "ẞ", "sS", "ſs"...)
//   split   next, alt                    try `next`, then `alt`
//   jump    next                         a join point (no-op)
//   assert  a=Anchor                     zero-width test of the position
//   lookSet a=class b=flags              one-scalar look-around: bit 0 negated, bit 1 behind
//   look    a=sub b=negated              run sub-program `a` at the position
//   atomic  a=sub alt                    run sub-program `a`, continue at its first end only
//                                        (at `alt` instead when it consumed and `alt` >= 0)
//   runGreedy / runPossessive            a=class b=min c=max (-1 = none) d=run index alt=fallback:
//                                        a repetition of one class (main program only)
//   match                                success: the (sub-)program ends here
//   bytesBack, setBack                   the same, matching leftwards (look-behind bodies)
//
// `slot` is the instruction's memo slot within its (sub-)program, or -1 when the instruction is
// reached from a single predecessor and needs no memo (see RegexMatcher.swift).

enum RegexOp: UInt8 {
    case bytes, set, fold, split, jump, assert, lookSet, look, atomic, runGreedy, runPossessive, match
    case bytesBack, setBack
}

struct RegexInst {
    var op: RegexOp
    var slot: Int32 = -1
    var next: Int32 = -1
    var alt: Int32 = -1
    var a: Int32 = 0
    var b: Int32 = 0
    var c: Int32 = 0
    /// Run instructions: their index in `RegexProgram.runPCs` (for the work budget).
    var d: Int32 = 0

    /// True for instructions that always consume at least one byte.
    var consumes: Bool {
        switch op {
        case .bytes, .set, .fold, .bytesBack, .setBack: return true
        default: return false
        }
    }
}

/// A (sub-)program: the main program (index 0), or the body of a look-around or atomic group.
struct RegexSub {
    enum Kind { case main, look, atomic }
    var kind: Kind
    var entry: Int32
    /// Look-behind bodies match leftwards from the position.
    var backward: Bool
    var isAtomic: Bool { kind == .atomic }
    var slotCount: Int32 = 0
}

/// A character class for matching: ASCII as two words, the rest of the BMP as a bitmap unless it
/// is all in or all out, scalars above U+FFFF as sorted ranges.
struct RegexClass: @unchecked Sendable {
    // @unchecked: the bitmaps are written in `init` only; a program frees them in its deinit.
    var ascii0: UInt64 = 0
    var ascii1: UInt64 = 0
    /// 1,024 words for U+0000...U+FFFF, or nil when `bmpAll` decides.
    var bmp: UnsafeMutablePointer<UInt64>?
    var bmpAll = false
    var astral: UnsafeMutablePointer<UInt32>?
    var astralCount = 0

    init(_ set: ScalarSet) {
        var hasBMP = false, allBMP = true
        var astralBounds: [UInt32] = []
        for r in set.ranges {
            var lo = r.lowerBound
            let hi = r.upperBound
            while lo < 128 && lo <= hi {
                if lo < 64 { ascii0 |= 1 << UInt64(lo) } else { ascii1 |= 1 << UInt64(lo - 64) }
                lo += 1
            }
            if lo <= hi && lo < 0x10000 { hasBMP = true }
            if hi >= 0x10000 {
                astralBounds.append(max(lo, 0x10000))
                astralBounds.append(hi)
            }
        }
        // Is every non-ASCII BMP scalar (surrogates aside) a member?
        let bmpPart = set.intersection(ScalarSet(bounds: [0x80, 0xD7FF, 0xE000, 0xFFFF]))
        allBMP = bmpPart.bounds == [0x80, 0xD7FF, 0xE000, 0xFFFF]
        if allBMP {
            bmpAll = true
        } else if hasBMP {
            let words = UnsafeMutablePointer<UInt64>.allocate(capacity: 1024)
            words.initialize(repeating: 0, count: 1024)
            for r in bmpPart.ranges {
                // Set bits lo...hi a word at a time.
                var lo = Int(r.lowerBound)
                let hi = Int(r.upperBound)
                while lo <= hi {
                    let w = lo >> 6, first = lo & 63
                    let last = min(63, hi - (w << 6))
                    let span = last - first + 1
                    let bits: UInt64 = span == 64 ? ~0 : ((1 << UInt64(span)) - 1) << UInt64(first)
                    words[w] |= bits
                    lo = (w + 1) << 6
                }
            }
            bmp = words
        }
        if !astralBounds.isEmpty {
            let a = UnsafeMutablePointer<UInt32>.allocate(capacity: astralBounds.count)
            a.initialize(from: astralBounds, count: astralBounds.count)
            astral = a
            astralCount = astralBounds.count / 2
        }
    }

    func deallocate() {
        bmp?.deallocate()
        astral?.deallocate()
    }

    @inline(__always)
    func containsASCII(_ b: UInt8) -> Bool {
        b < 64 ? (ascii0 >> UInt64(b)) & 1 != 0 : (ascii1 >> UInt64(b &- 64)) & 1 != 0
    }

    @inline(__always)
    func contains(_ v: UInt32) -> Bool {
        if v < 128 { return containsASCII(UInt8(v)) }
        if v < 0x10000 {
            if let bmp { return (bmp[Int(v >> 6)] >> UInt64(v & 63)) & 1 != 0 }
            return bmpAll
        }
        guard let astral else { return false }
        var lo = 0, hi = astralCount
        while lo < hi {
            let mid = (lo + hi) >> 1
            if astral[2 * mid + 1] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo < astralCount && astral[2 * lo] <= v
    }
}

/// A compiled regex. Build it with `RegexProgram(pattern:)`; run it with a `RegexMatcher`.
final class RegexProgram: @unchecked Sendable {
    // @unchecked: the buffers below are written only in `init` and freed in `deinit`.
    let pattern: String
    let insts: UnsafeMutablePointer<RegexInst>
    let instCount: Int
    let classes: UnsafeMutablePointer<RegexClass>
    let classCount: Int
    let bytePool: UnsafeMutablePointer<UInt8>
    let foldPool: UnsafeMutablePointer<UInt32>
    let subs: [RegexSub]
    /// `subs` as a raw buffer, for the matcher's hot path.
    let subTable: UnsafeMutablePointer<RegexSub>
    /// The class `\w`, for `\b` and `\B`.
    let wordClass: Int32
    /// Bytes a match can start with (all true when the pattern can match the empty string).
    let firstBytes: UnsafeMutablePointer<Bool>
    let canMatchEmpty: Bool
    /// Run instructions of the main program, in pc order (for their work counters).
    let runPCs: [Int32]
    /// Set when the whole pattern is one literal byte string (a Split `String` pattern).
    let literal: [UInt8]?

    /// Compiles `pattern` (Oniguruma syntax).
    /// - Throws: `RegexError` with the byte offset of the problem.
    /// - Complexity: O(pattern size × the largest class's range count), bounded by the limits
    ///   in `RegexCompiler`.
    convenience init(pattern: String) throws(RegexError) {
        let ast = try RegexParser.parse(pattern)
        var compiler = RegexCompiler()
        try compiler.compileProgram(ast)
        self.init(pattern: pattern, compiler: compiler, ast: ast)
    }

    /// A program matching `text` literally (HF `Split` with a `String` pattern, which HF escapes
    /// and compiles with Oniguruma).
    convenience init(literal text: String) throws(RegexError) {
        let ast: RegexNode = .concat(text.unicodeScalars.map { .literal($0.value, foldCase: false) })
        var compiler = RegexCompiler()
        try compiler.compileProgram(ast)
        self.init(pattern: text, compiler: compiler, ast: ast)
    }

    private init(pattern: String, compiler c: RegexCompiler, ast: RegexNode) {
        self.pattern = pattern
        instCount = c.insts.count
        insts = UnsafeMutablePointer<RegexInst>.allocate(capacity: max(1, instCount))
        insts.initialize(from: c.insts, count: instCount)
        classCount = c.classSets.count
        classes = UnsafeMutablePointer<RegexClass>.allocate(capacity: max(1, classCount))
        for (k, s) in c.classSets.enumerated() { (classes + k).initialize(to: RegexClass(s)) }
        bytePool = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, c.bytePool.count))
        bytePool.initialize(from: c.bytePool, count: c.bytePool.count)
        foldPool = UnsafeMutablePointer<UInt32>.allocate(capacity: max(1, c.foldPool.count))
        foldPool.initialize(from: c.foldPool, count: c.foldPool.count)
        subs = c.subs
        subTable = UnsafeMutablePointer<RegexSub>.allocate(capacity: max(1, c.subs.count))
        subTable.initialize(from: c.subs, count: c.subs.count)
        wordClass = c.wordClass
        runPCs = c.runPCs
        let first = RegexFirstBytes.compute(ast)
        canMatchEmpty = first == nil
        firstBytes = UnsafeMutablePointer<Bool>.allocate(capacity: 256)
        firstBytes.initialize(repeating: true, count: 256)
        if let first {
            for b in 0..<256 { firstBytes[b] = first[b] }
        }
        literal = RegexFirstBytes.literalBytes(ast)
    }

    deinit {
        insts.deallocate()
        for k in 0..<classCount { classes[k].deallocate() }
        classes.deallocate()
        bytePool.deallocate()
        foldPool.deallocate()
        firstBytes.deallocate()
        subTable.deallocate()
    }
}

// JSON strings: where they end, whether their bytes are valid, and their escapes decoded.
//
// Most of a JSONL row is one or two long strings, so this is the reader's hot loop.
// - The scan. A string is read 16 bytes at a time for the first byte that needs a look: a
//   quote, a backslash, a control character or non-ASCII (`lookBits`: on x86-64 one SSE2 load,
//   three compares and a `pmovmskb`; elsewhere two SWAR words). Plain ASCII costs well under an
//   instruction a byte, and a string's last bytes are one block that overlaps the one before.
// - No escapes: the caller gets the input's own bytes.
// - From the first escape on, the string is decoded into one buffer sized by the rest of the
//   input (decoded bytes never outnumber escaped ones, so it never grows and nothing scans ahead
//   for the closing quote): the caller's `escapes` when it is that large. Each block is stored
//   there as it is scanned (`copyPlain`), so the plain run between two escapes is copied by the
//   scan itself, not by a `memmove` call a run (JSON from Python writes every non-ASCII
//   character as `\uXXXX`: a row of English text with a few curly quotes has about seven
//   escapes).
// - Non-ASCII runs are checked as UTF8Validation.swift describes.
// Measured with callgrind on a build of 42k short rows (8 MB of `{"text": ...}`, 3.5 `\u` and
// 3.5 other escapes a row): see `withString`.

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

extension JSONParser {
    /// Reads a string. Every byte is checked here (escapes, control characters, UTF-8
    /// sequences), so the String is made from bytes known to be valid UTF-8 (`validString`).
    mutating func string() throws(JSONError) -> String {
        try withString(JSONParser.validString)
    }

    /// Reads the string at `i` (its opening quote) and calls `body` with its decoded bytes
    /// (valid UTF-8), valid during the call only: the input's own bytes when it has no escapes.
    /// Cost in that build (callgrind, the whole row read by `JSON.forEachMember`): ~1,560
    /// instructions a row, from 2,074 with 8 bytes a step, a `memmove` call a plain run and
    /// escapes decoded by a switch.
    mutating func withString<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) throws(JSONError) -> R {
        let open = i
        i += 1
        let start = i
        guard let base = b.baseAddress else { throw fail("unterminated string", at: open) }
        // Up to the closing quote or the first escape: nothing is copied.
        while true {
            i = skipPlain(from: i)
            guard i < b.count else { throw fail("unterminated string", at: open) }
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return body(UnsafeBufferPointer(start: base + start, count: i - 1 - start))
            }
            if c == UInt8(ascii: "\\") { break }
            try checkUnescaped(open: open)
        }
        // From the first escape: decoded into `out`, whose capacity the rest of the input bounds.
        let capacity = b.count - start
        let out: UnsafeMutablePointer<UInt8>
        let owned: Bool
        if let escapes, let e = escapes.baseAddress, escapes.count >= capacity {
            out = e; owned = false
        } else {
            out = .allocate(capacity: capacity); owned = true
        }
        defer { if owned { out.deallocate() } }
        out.update(from: base + start, count: i - start)
        var n = i - start
        let tables = EscapeTables.shared
        while true {
            // `b[i]` needs a look, or is a plain byte of an input shorter than a block (16 bytes).
            let c = b[i]
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                // A one-byte escape here (`\n`, `\"`...); `\u` and errors in `unescape`.
                let meaning = i &+ 1 < b.count ? tables.meaning[Int(b[i &+ 1])] : 0
                if meaning != 0 && meaning != EscapeTables.unicode {
                    out[n] = meaning
                    n &+= 1
                    i &+= 2
                } else if meaning == EscapeTables.unicode, let v = plainUnicodeEscape(tables) {
                    // `\uXXXX` outside the surrogates (Python escapes every non-ASCII
                    // character so): decoded here, without `unescape`'s call (~100
                    // instructions an escape there).
                    n &+= Self.storeUTF8(v, at: out + n)
                    i &+= 6
                } else {
                    try unescape(into: out, &n, open: open, tables: tables)
                }
            } else {
                let from = i
                try checkUnescaped(open: open)
                (out + n).update(from: base + from, count: i - from)
                n += i - from
            }
            i = copyPlain(from: i, to: out, &n)
            guard i < b.count else { throw fail("unterminated string", at: open) }
        }
        i += 1
        return body(UnsafeBufferPointer(start: out, count: n))
    }

    /// Steps over the unescaped byte at `i` (not a quote or a backslash): one plain byte, or a
    /// run of UTF-8 sequences, checked.
    @inline(__always)
    private mutating func checkUnescaped(open: Int) throws(JSONError) {
        let c = b[i]
        if c < 0x20 {
            throw fail("control character \(describe(c)) inside a string (write it as an escape such as \\n)")
        }
        if c < 0x80 { i += 1; return }
        // The run of common two- and three-byte sequences, then one sequence.
        i = skipMultibyte(from: i)
        guard i < b.count else { throw fail("unterminated string", at: open) }
        if b[i] < 0x80 { return }
        let n = utf8SequenceLength(at: i)
        if n == 0 { throw fail("invalid UTF-8 byte 0x\(String(b[i], radix: 16, uppercase: true)) inside a string") }
        i += n
    }

    /// Decodes the `\u` escape at `i` (its backslash) into `out[n...]`, or says what is wrong
    /// with the escape there. (`withString` decodes the one-byte escapes itself, by a table
    /// lookup: with a switch, and the `\u` digits read one by one, an escape cost ~90
    /// instructions, and JSON from Python escapes every non-ASCII character.)
    private mutating func unescape(into out: UnsafeMutablePointer<UInt8>, _ n: inout Int, open: Int, tables: EscapeTables) throws(JSONError) {
        i += 1
        guard i < b.count else { throw fail("unterminated string", at: open) }
        let e = b[i]
        i += 1
        guard e == UInt8(ascii: "u") else {
            throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'", at: i - 2)
        }
        let escPos = i - 2
        var v = try hex4(tables)
        if v >= 0xD800 && v < 0xDC00 {
            guard i + 6 <= b.count, b[i] == 92, b[i + 1] == UInt8(ascii: "u") else {
                throw fail("lone surrogate \\u\(String(v, radix: 16)) (a high surrogate must be followed by a low one)", at: escPos)
            }
            i += 2
            let lo = try hex4(tables)
            guard lo >= 0xDC00 && lo < 0xE000 else {
                throw fail("invalid surrogate pair \\u\(String(v, radix: 16))\\u\(String(lo, radix: 16))", at: escPos)
            }
            v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
        } else if v >= 0xDC00 && v < 0xE000 {
            throw fail("lone surrogate \\u\(String(v, radix: 16)) (a low surrogate without a high one)", at: escPos)
        }
        n &+= Self.storeUTF8(v, at: out + n)
    }

    /// The code point of the `\u` escape whose backslash is at `i`, when it is four hex digits
    /// outside the surrogates (nil otherwise: `unescape` decodes pairs and reports errors).
    @inline(__always)
    func plainUnicodeEscape(_ tables: EscapeTables) -> UInt32? {
        guard i &+ 6 <= b.count, let base = b.baseAddress, let v = Self.hexValue(base + (i &+ 2), tables) else { return nil }
        return v >= 0xD800 && v < 0xE000 ? nil : v
    }

    /// The value of the four hex digits at `p`, nil when one is not a hex digit.
    @inline(__always)
    static func hexValue(_ p: UnsafePointer<UInt8>, _ tables: EscapeTables) -> UInt32? {
        let hex = tables.hexDigit
        let d0 = hex[Int(p[0])], d1 = hex[Int(p[1])], d2 = hex[Int(p[2])], d3 = hex[Int(p[3])]
        guard (d0 | d1 | d2 | d3) & 0xF0 == 0 else { return nil }
        return UInt32(d0) << 12 | UInt32(d1) << 8 | UInt32(d2) << 4 | UInt32(d3)
    }

    /// Stores the UTF-8 (1–4 bytes) of the scalar `v` at `p` as one 4-byte word; returns its
    /// length. The word fits: an escape takes 6 bytes of input (12 for a pair), so the decoded
    /// bytes plus 4 stay within the input consumed, which bounds the output.
    @inline(__always)
    static func storeUTF8(_ v: UInt32, at p: UnsafeMutablePointer<UInt8>) -> Int {
        let word: UInt32, length: Int
        if v < 0x80 {
            word = v; length = 1
        } else if v < 0x800 {
            word = (0xC0 | v >> 6) | (0x80 | v & 0x3F) << 8; length = 2
        } else if v < 0x10000 {
            word = (0xE0 | v >> 12) | (0x80 | v >> 6 & 0x3F) << 8 | (0x80 | v & 0x3F) << 16; length = 3
        } else {
            word = (0xF0 | v >> 18) | (0x80 | v >> 12 & 0x3F) << 8 | (0x80 | v >> 6 & 0x3F) << 16 | (0x80 | v & 0x3F) << 24
            length = 4
        }
        UnsafeMutableRawPointer(p).storeBytes(of: word.littleEndian, as: UInt32.self)
        return length
    }

    /// The four hex digits at `i` (a `\u` escape's), read through `tables.hexDigit`; an error
    /// names the first byte that is not one.
    @inline(__always)
    mutating func hex4(_ tables: EscapeTables) throws(JSONError) -> UInt32 {
        guard i + 4 <= b.count, let base = b.baseAddress else { throw fail("truncated \\u escape") }
        guard let v = Self.hexValue(base + i, tables) else {
            while tables.hexDigit[Int(b[i])] < 16 { i += 1 }
            throw fail("invalid hex digit in \\u escape")
        }
        i += 4
        return v
    }

    /// The first offset from `k` of a byte that needs a look, or `b.count` when there is none.
    /// Inputs shorter than a block go byte by byte (the caller's loop): returns `k`.
    @inline(__always)
    func skipPlain(from k: Int) -> Int {
        guard let base = b.baseAddress, b.count >= 16 else { return k }
        let raw = UnsafeRawPointer(base)
        var k = k
        while k &+ 16 <= b.count {
            let bits = JSONParser.lookBits(raw + k)
            if bits != 0 { return k &+ bits.trailingZeroBitCount }
            k &+= 16
        }
        // The last block, overlapping: its bits below `k` are dropped.
        let bits = JSONParser.lookBits(raw + (b.count &- 16)) &>> UInt32(k &- (b.count &- 16))
        return bits != 0 ? k &+ bits.trailingZeroBitCount : b.count
    }

    /// `skipPlain` that also copies the bytes it steps over to `out[n...]` (advancing `n`): a
    /// whole block is stored before its bits are looked at. The store stays inside `out`: the
    /// decoded bytes never outnumber the input's, so `n ≤ k - start` and a block that fits in
    /// the input (`k + 16 ≤ b.count`) fits at `n` in a buffer of `b.count - start`.
    @inline(__always)
    func copyPlain(from k: Int, to out: UnsafeMutablePointer<UInt8>, _ n: inout Int) -> Int {
        guard let base = b.baseAddress, b.count >= 16 else { return k }
        let raw = UnsafeRawPointer(base)
        var k = k
        while k &+ 16 <= b.count {
            let bits = JSONParser.lookBits(raw + k)
            UnsafeMutableRawPointer(out + n).copyMemory(from: raw + k, byteCount: 16)
            if bits != 0 {
                let plain = bits.trailingZeroBitCount
                n &+= plain
                return k &+ plain
            }
            k &+= 16
            n &+= 16
        }
        let bits = JSONParser.lookBits(raw + (b.count &- 16)) &>> UInt32(k &- (b.count &- 16))
        let end = bits != 0 ? k &+ bits.trailingZeroBitCount : b.count
        (out + n).update(from: base + k, count: end &- k)
        n &+= end &- k
        return end
    }

    /// Bit k is set when byte k of `p[0..<16]` needs a look: a quote, a backslash, a control
    /// character or non-ASCII.
    @inline(__always)
    static func lookBits(_ p: UnsafeRawPointer) -> UInt32 {
        #if arch(x86_64)
        return lookBitsSSE2(p)
        #else
        return lookBitsSWAR(p)
        #endif
    }

    #if arch(x86_64)
    /// SSE2 (every x86-64 CPU): a signed compare with 0x20 is true for control characters and
    /// for every byte ≥ 0x80 (negative) at once.
    @inline(__always)
    static func lookBitsSSE2(_ p: UnsafeRawPointer) -> UInt32 {
        let v = _mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x22))
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x5C))
        let low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))
        return UInt32(UInt16(truncatingIfNeeded: _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), low))))
    }
    #endif

    /// The same from two 8-byte words (any CPU): exact SWAR class tests (`SWAR.inRange`), each
    /// byte's flag gathered into a bit by a multiply.
    static func lookBitsSWAR(_ p: UnsafeRawPointer) -> UInt32 {
        @inline(__always) func bits(_ w: UInt64) -> UInt32 {
            let flags = SWAR.inRange(w, 0x22, 0x22) | SWAR.inRange(w, 0x5C, 0x5C) | SWAR.inRange(w, 0x00, 0x1F) | (w & SWAR.high)
            return UInt32(truncatingIfNeeded: (flags &* 0x0002_0408_1020_4081) &>> 56)
        }
        return bits(p.loadUnaligned(as: UInt64.self).littleEndian)
            | bits(p.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian) &<< 8
    }

    /// A String of bytes already checked to be valid UTF-8, copied without the standard
    /// library's second validation (String(decoding:) ran at ~1 GB/s on English text with a
    /// few curly quotes, a tenth of a build's encoding thread; the copy alone at ~25 GB/s).
    @inline(__always)
    static func validString(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        if #available(macOS 26, iOS 26, watchOS 26, tvOS 26, visionOS 26, *) {
            return String(copying: unsafe UTF8Span(unchecked: bytes.span))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// What the byte after a backslash means (`meaning`: the byte it stands for, `unicode` for
/// `u`, 0 for an invalid escape) and each byte's hex digit value (`hexDigit`: 0–15, 0xFF for
/// a byte that is not one). `shared` is made once; a string takes it once, at its first escape.
struct EscapeTables: @unchecked Sendable {
    static let unicode: UInt8 = 0xFF
    let meaning: UnsafePointer<UInt8>
    let hexDigit: UnsafePointer<UInt8>

    static let shared = EscapeTables()

    private init() {
        let meaning = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        meaning.initialize(repeating: 0, count: 256)
        for (c, m) in [("\"", 0x22), ("\\", 0x5C), ("/", 0x2F), ("b", 8), ("f", 12), ("n", 10), ("r", 13), ("t", 9)] as [(Unicode.Scalar, UInt8)] {
            meaning[Int(c.value)] = m
        }
        meaning[Int(UInt8(ascii: "u"))] = Self.unicode
        let hex = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        hex.initialize(repeating: 0xFF, count: 256)
        for (k, c) in "0123456789abcdef".utf8.enumerated() { hex[Int(c)] = UInt8(k) }
        for (k, c) in "ABCDEF".utf8.enumerated() { hex[Int(c)] = UInt8(10 + k) }
        self.meaning = UnsafePointer(meaning)
        hexDigit = UnsafePointer(hex)
    }
}

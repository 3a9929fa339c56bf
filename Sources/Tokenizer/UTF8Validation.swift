// UTF-8 validation: `firstInvalidUTF8` (every `encode(utf8:)` input) and the JSON reader's
// strings check bytes with the same three steps.
//   1. ASCII, 32 and then 8 bytes at a time (firstInvalidUTF8; the JSON reader has its own
//      16-byte scan for bytes that need a look, `skipPlain` in JSON+Strings.swift);
//   2. runs of the two- and three-byte sequences whose leads accept every continuation byte
//      (C2–DF; E1–EC, EE–EF: Cyrillic, Greek, accented Latin; Chinese, Japanese), one 4-byte
//      load and a mask compare a sequence (`skipMultibyte`);
//   3. anything else (E0 and ED, which limit their second byte; four-byte sequences; errors)
//      one sequence at a time (`utf8SequenceLength`).
// Measured with cachegrind on 3 MB of zh (Chinese with some ASCII): 13 instructions a byte
// with step 3 alone, ~6 with step 2. UTF8ValidationTests compares both users with the
// standard library's UTF-8 parser.

extension JSONParser {
    /// The end of the run of well-formed two- and three-byte sequences from `k` whose leads
    /// accept every continuation byte (C2–DF; E1–EC, EE–EF): one 4-byte load and a mask compare
    /// a sequence. Where it stops (E0 and ED limit their second byte; four-byte sequences,
    /// errors, ASCII, the last three bytes) is for `utf8SequenceLength` or the caller's ASCII
    /// path.
    @inline(__always)
    func skipMultibyte(from k: Int) -> Int {
        guard let base = b.baseAddress else { return k }
        let raw = UnsafeRawPointer(base)
        var k = k
        // Little-endian loads: the lead is the low byte. 110xxxxx 10xxxxxx with a lead ≥ C2;
        // 1110xxxx 10xxxxxx 10xxxxxx with a lead other than E0 and ED.
        while k &+ 4 <= b.count {
            let w = raw.loadUnaligned(fromByteOffset: k, as: UInt32.self)
            let lead = w & 0xFF
            if w & 0x00C0_C0F0 == 0x0080_80E0 && lead != 0xE0 && lead != 0xED {
                k &+= 3
            } else if w & 0xC0E0 == 0x80C0 && lead >= 0xC2 {
                k &+= 2
            } else {
                break
            }
        }
        return k
    }

    /// Length of the well-formed UTF-8 sequence starting at `p`, or 0 if it is ill-formed.
    func utf8SequenceLength(at p: Int) -> Int {
        let c0 = b[p]
        func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            p + k < b.count && b[p + k] >= lo && b[p + k] <= hi
        }
        switch c0 {
        case 0xC2...0xDF: return cont(1) ? 2 : 0
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return cont(1) && cont(2) ? 3 : 0
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : 0
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0
        default: return 0
        }
    }
}

/// The offset of the first byte that is not part of well-formed UTF-8, or nil if all of it is.
/// `Tokenizer.encode(utf8:)` requires valid UTF-8; check untrusted bytes with this first.
public func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    let p = JSONParser(bytes)
    var i = 0
    let n = bytes.count
    guard let base = bytes.baseAddress else { return nil }
    let raw = UnsafeRawPointer(base)
    while i < n {
        // ASCII 32 bytes, then eight bytes at a time.
        while i + 32 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
                | raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)
            if w & 0x8080_8080_8080_8080 != 0 { break }
            i += 32
        }
        while i + 8 <= n && raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
        if i >= n { break }
        if bytes[i] < 0x80 { i += 1; continue }
        i = p.skipMultibyte(from: i)
        if i >= n || bytes[i] < 0x80 { continue }
        let k = p.utf8SequenceLength(at: i)
        if k == 0 { return i }
        i += k
    }
    return nil
}

// GPT-2's byte-level alphabet: every byte is written as one printable character in vocab.json,
// merges.txt and tokenizer.json. Bytes that are printable Latin-1 (`!`...`~`, `¡`...`¬`,
// `®`...`ÿ`) stand for themselves; the other 68 bytes take U+0100, U+0101, ... in byte order.
// So " " (0x20) is written `Ġ` (U+0120) and "\n" (0x0A) is `Ċ` (U+010A).

enum ByteLevel {
    /// byte → the character that stands for it.
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// The raw bytes a byte-level token string stands for, or nil if a character is outside the
    /// alphabet (HF's decoder then uses the string's own UTF-8 bytes).
    static func decode(_ token: String) -> [UInt8]? { fastDecode(token) }

    /// Scalar (below U+0144) → byte + 1, 0 when the scalar is outside the alphabet.
    static let scalarTable: [UInt16] = {
        var t = [UInt16](repeating: 0, count: 0x144)
        for (b, s) in byteToScalar.enumerated() { t[Int(s)] = UInt16(b) + 1 }
        return t
    }()

    /// Appends the bytes that the UTF-8 string `s` stands for; false if a character is outside
    /// the alphabet. Reads UTF-8 directly (the alphabet is all one- and two-byte characters).
    static func fastDecode(_ s: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) -> Bool {
        let table = scalarTable
        var i = 0
        while i < s.count {
            let c = s[i]
            var v: Int
            if c < 0x80 {
                v = Int(c)
                i += 1
            } else if c >= 0xC2 && c <= 0xC5 && i + 1 < s.count {
                v = Int(c & 0x1F) << 6 | Int(s[i + 1] & 0x3F)
                i += 2
            } else {
                return false
            }
            guard v < table.count, table[v] != 0 else { return false }
            out.append(UInt8(table[v] - 1))
        }
        return true
    }

    /// The UTF-8 of the characters that stand for `bytes` (what HF's ByteLevel pre-tokenizer
    /// shows the steps after it).
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            let v = byteToScalar[Int(b)]
            if v < 0x80 { out.append(UInt8(v)) } else { out.append(0xC0 | UInt8(v >> 6)); out.append(0x80 | UInt8(v & 0x3F)) }
        }
        return out
    }

    static func fastDecode(_ token: String) -> [UInt8]? {
        var token = token
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        return token.withUTF8 { fastDecode($0, into: &out) } ? out : nil
    }
}

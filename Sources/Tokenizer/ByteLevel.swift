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

    /// character → byte, for the 256 characters of the alphabet.
    static let scalarToByte: [UInt32: UInt8] = {
        var m: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { m[s] = UInt8(b) }
        return m
    }()

    /// The raw bytes a byte-level token string stands for, or nil if a character is outside the
    /// alphabet (HF's decoder then uses the string's own UTF-8 bytes).
    static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for u in token.unicodeScalars {
            guard let b = scalarToByte[u.value] else { return nil }
            out.append(b)
        }
        return out
    }

    /// The byte-level string for raw bytes (used to name tokens in messages and tests).
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(byteToScalar[Int(b)])!) }
        return String(s)
    }
}

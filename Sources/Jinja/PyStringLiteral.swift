// Python string-literal escapes in template source: how jinja2 decodes a string token.

/// Python string-literal escapes, as jinja2 decodes a string token:
/// `value.encode("ascii", "backslashreplace").decode("unicode-escape")`.
enum PyStringLiteral {
    static func unescape(_ raw: ArraySlice<UInt8>, at offset: Int) throws(JinjaError) -> String {
        if !raw.contains(UInt8(ascii: "\\")) { return String(decoding: raw, as: UTF8.self) }
        // First, as backslashreplace does: every non-ASCII character becomes \xNN, \uNNNN or \UNNNNNNNN.
        var ascii: [UInt8] = []
        ascii.reserveCapacity(raw.count + 16)
        for scalar in String(decoding: raw, as: UTF8.self).unicodeScalars {
            let v = scalar.value
            if v < 0x80 {
                ascii.append(UInt8(v))
            } else {
                let (prefix, digits): (UInt8, Int) = v < 0x100 ? (UInt8(ascii: "x"), 2) : v < 0x10000 ? (UInt8(ascii: "u"), 4) : (UInt8(ascii: "U"), 8)
                ascii.append(UInt8(ascii: "\\"))
                ascii.append(prefix)
                let hex = String(v, radix: 16)
                for _ in 0..<(digits - hex.count) { ascii.append(UInt8(ascii: "0")) }
                ascii.append(contentsOf: hex.utf8)
            }
        }
        // Then the unicode-escape codec.
        var out = String.UnicodeScalarView()
        var i = 0
        func hexValue(_ count: Int, _ what: String) throws(JinjaError) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<count {
                guard i + k < ascii.count, let d = hexDigit(ascii[i + k]) else {
                    throw .syntax("truncated \(what) escape", at: offset)
                }
                v = v << 4 | d
            }
            i += count
            return v
        }
        while i < ascii.count {
            let c = ascii[i]
            if c != UInt8(ascii: "\\") {
                out.append(Unicode.Scalar(c))
                i += 1
                continue
            }
            i += 1
            guard i < ascii.count else { throw .syntax("\\ at end of string", at: offset) }
            let e = ascii[i]
            i += 1
            switch e {
            case 10: break  // backslash-newline is a line continuation
            case UInt8(ascii: "\\"): out.append("\\")
            case UInt8(ascii: "'"): out.append("'")
            case UInt8(ascii: "\""): out.append("\"")
            case UInt8(ascii: "a"): out.append(Unicode.Scalar(7))
            case UInt8(ascii: "b"): out.append(Unicode.Scalar(8))
            case UInt8(ascii: "f"): out.append(Unicode.Scalar(12))
            case UInt8(ascii: "n"): out.append(Unicode.Scalar(10))
            case UInt8(ascii: "r"): out.append(Unicode.Scalar(13))
            case UInt8(ascii: "t"): out.append(Unicode.Scalar(9))
            case UInt8(ascii: "v"): out.append(Unicode.Scalar(11))
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var v = UInt32(e - 48)
                var n = 1
                while n < 3, i < ascii.count, ascii[i] >= 48, ascii[i] <= 55 {
                    v = v * 8 + UInt32(ascii[i] - 48)
                    i += 1
                    n += 1
                }
                guard let s = Unicode.Scalar(v) else { throw .syntax("octal escape out of range", at: offset) }
                out.append(s)
            case UInt8(ascii: "x"):
                let v = try hexValue(2, "\\xXX")
                out.append(Unicode.Scalar(UInt8(v)))
            case UInt8(ascii: "u"):
                let v = try hexValue(4, "\\uXXXX")
                guard let s = Unicode.Scalar(v) else {
                    throw .syntax("the escape \\u\(String(v, radix: 16)) is a lone surrogate, which finetok's strings (UTF-8) cannot hold", at: offset)
                }
                out.append(s)
            case UInt8(ascii: "U"):
                let v = try hexValue(8, "\\UXXXXXXXX")
                guard let s = Unicode.Scalar(v) else { throw .syntax("illegal Unicode character", at: offset) }
                out.append(s)
            case UInt8(ascii: "N"):
                throw .unsupported("the \\N{...} escape", at: offset)
            default:
                // Unknown escapes stay as they are (Python warns but keeps the backslash).
                out.append("\\")
                out.append(Unicode.Scalar(e))
            }
        }
        return String(out)
    }

    static func hexDigit(_ c: UInt8) -> UInt32? {
        switch c {
        case 48...57: return UInt32(c - 48)
        case 65...70: return UInt32(c - 55)
        case 97...102: return UInt32(c - 87)
        default: return nil
        }
    }
}

// Normalization: `null` or NFC (what pythia / GPT-NeoX's tokenizer.json asks for).

import Foundation

enum Normalizer: Sendable, Equatable {
    case none
    case nfc

    /// Returns the normalized bytes, or nil when the input is already normalized (the common case,
    /// decided without allocating).
    /// - Complexity: O(n); Foundation's NFC runs only on text holding a scalar that might change.
    func apply(_ p: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard self == .nfc, Normalizer.mayChangeUnderNFC(p) else { return nil }
        let s = String(decoding: p, as: UTF8.self)
        let n = s.precomposedStringWithCanonicalMapping
        let out = Array(n.utf8)
        return out.elementsEqual(p) ? nil : out
    }

    /// False when every scalar is NFC-stable with combining class 0 on its own and cannot combine
    /// with a neighbour: below U+0300, CJK unified ideographs, Hangul syllables, kana without
    /// voicing marks, CJK punctuation and full-width forms. Anything else is sent to Foundation.
    static func mayChangeUnderNFC(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = p.count
        while i < n {
            let b = p[i]
            if b < 0xCC { i += b < 0x80 ? 1 : 2; continue }
            let (v, len) = decodeScalar(p, i)
            switch v {
            case 0x3001...0x3029, 0x3041...0x3096, 0x30A1...0x30FA, 0x3400...0x4DBF, 0x4E00...0x9FFF,
                 0xAC00...0xD7A3, 0xFF01...0xFF5E:
                i += len
            default:
                return true
            }
        }
        return false
    }
}

// Decoding ids of a `tokenizer.model` as sentencepiece's `DecodeIds` does:
//
//   CONTROL pieces      nothing
//   the UNKNOWN piece   the unknown surface (" ⁇ " unless trainer_spec.unk_surface says otherwise)
//   BYTE pieces         a run of them → its bytes, character by character; a byte that does not
//                       start a valid UTF-8 character → U+FFFD
//   other pieces        their text with "▁" → " "; the first piece that may start the text
//                       loses one leading "▁" (with add_dummy_prefix or
//                       remove_extra_whitespaces; under remove_extra_whitespaces the next piece
//                       may lose one too while the text is still empty)

struct SentencePieceDecoder: Sendable {
    static let marker = LiteralPattern(SentencePieceNormalizer.space)

    let types: [SentencePieceModel.PieceType]
    let addDummyPrefix: Bool
    let removeExtraWhitespaces: Bool
    let unkSurface: [UInt8]

    /// The UTF-8 text of `ids`, whose pieces' texts are in `tokens`.
    /// - Parameter skip: ids to leave out (`skipSpecialTokens`).
    func decode(_ ids: [UInt32], tokens: TokenStore, skip: (UInt32) -> Bool) -> [UInt8] {
        var text: [UInt8] = []
        var bytes: [UInt8] = []
        var atStart = true
        var startSpaceSeen = false
        let space = SentencePieceNormalizer.space
        for id in ids where !skip(id) {
            let type = types[Int(id)]
            let piece = tokens.tokenBytes(Int(id))
            if type == .byte {
                if let b = SentencePieceModel.byteValue(piece) { bytes.append(b) }
                continue
            }
            SentencePieceDecoder.flush(&bytes, into: &text)
            if startSpaceSeen || !text.isEmpty { atStart = false }
            switch type {
            case .control:
                startSpaceSeen = false
            case .unknown:
                text += unkSurface
                startSpaceSeen = false
            default:
                var body = piece[...]
                var consumed = false
                if atStart && (addDummyPrefix || removeExtraWhitespaces) && body.starts(with: space) {
                    body = body.dropFirst(3)
                    consumed = !removeExtraWhitespaces
                }
                text += body.withUnsafeBufferPointer { Normalizer.replace($0, SentencePieceDecoder.marker, [0x20]) ?? Array($0) }
                startSpaceSeen = consumed
            }
        }
        SentencePieceDecoder.flush(&bytes, into: &text)
        return text
    }

    /// Appends a run of byte pieces: each valid UTF-8 character as is, each other byte as U+FFFD.
    static func flush(_ bytes: inout [UInt8], into text: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        var i = 0
        while i < bytes.count {
            let len = validCharacterLength(bytes, i)
            if len == 0 {
                text += [0xEF, 0xBF, 0xBD]
                i += 1
            } else {
                text += bytes[i..<(i + len)]
                i += len
            }
        }
        bytes.removeAll()
    }

    /// The length of the valid UTF-8 character at `i` (sentencepiece's `DecodeUTF8`), or 0.
    static func validCharacterLength(_ b: [UInt8], _ i: Int) -> Int {
        let c = b[i], left = b.count - i
        func trail(_ k: Int) -> Bool { b[i + k] & 0xC0 == 0x80 }
        if c < 0x80 { return 1 }
        if c & 0xE0 == 0xC0, left >= 2, trail(1) {
            let v = UInt32(c & 0x1F) << 6 | UInt32(b[i + 1] & 0x3F)
            return v >= 0x80 ? 2 : 0
        }
        if c & 0xF0 == 0xE0, left >= 3, trail(1), trail(2) {
            let v = UInt32(c & 0x0F) << 12 | UInt32(b[i + 1] & 0x3F) << 6 | UInt32(b[i + 2] & 0x3F)
            return v >= 0x800 && !(0xD800...0xDFFF).contains(v) ? 3 : 0
        }
        if c & 0xF8 == 0xF0, left >= 4, trail(1), trail(2), trail(3) {
            let v = UInt32(c & 0x07) << 18 | UInt32(b[i + 1] & 0x3F) << 12 | UInt32(b[i + 2] & 0x3F) << 6 | UInt32(b[i + 3] & 0x3F)
            return v >= 0x10000 && v <= 0x10FFFF ? 4 : 0
        }
        return 0
    }
}

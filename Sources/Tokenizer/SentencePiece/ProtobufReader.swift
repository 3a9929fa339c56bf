// The protobuf wire format, as far as a SentencePiece `tokenizer.model` needs it: varints,
// 32/64-bit fixed fields and length-delimited fields (strings, bytes, nested messages); unknown
// fields are skipped. Every read checks its bounds first, and every read consumes at least one
// byte, so reading any input is O(n) with no allocation beyond what the caller keeps.
//
// Wire format: each field is a key varint `field_number << 3 | wire_type` followed by its value:
// type 0 a varint, 1 eight bytes, 2 a length varint and that many bytes, 5 four bytes (3 and 4,
// the deprecated groups, are refused).

/// A malformed protobuf message: what was wrong and at which byte offset of the file.
struct ProtobufError: Error, Sendable, Equatable {
    var offset: Int
    var message: String
}

/// Reads fields from `bytes[range]` (one message).
struct ProtobufReader {
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var position: Int
    let end: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>) {
        self.bytes = bytes
        position = range.lowerBound
        end = range.upperBound
    }

    var atEnd: Bool { position >= end }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func nextField() throws(ProtobufError) -> (number: Int, type: WireType)? {
        guard position < end else { return nil }
        let at = position
        let key = try varint()
        let number = key >> 3
        guard number > 0, number < 1 << 29 else {
            throw ProtobufError(offset: at, message: "invalid field number \(number)")
        }
        guard let type = WireType(rawValue: key & 7) else {
            throw ProtobufError(offset: at, message: "field \(number) has wire type \(key & 7), which a SentencePiece model never uses (3 and 4 are deprecated groups, 6 and 7 do not exist)")
        }
        return (Int(number), type)
    }

    /// A base-128 varint (at most 10 bytes).
    mutating func varint() throws(ProtobufError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            guard position < end else {
                throw ProtobufError(offset: start, message: "a varint runs past the end of its message (the file is truncated or corrupt)")
            }
            let b = bytes[position]
            position += 1
            if shift == 63 && b > 1 {
                throw ProtobufError(offset: start, message: "a varint is longer than 64 bits")
            }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw ProtobufError(offset: start, message: "a varint is longer than 10 bytes") }
        }
    }

    mutating func fixed32() throws(ProtobufError) -> UInt32 {
        guard end - position >= 4 else {
            throw ProtobufError(offset: position, message: "a 4-byte field runs past the end of its message (the file is truncated or corrupt)")
        }
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(bytes[position + k]) << (8 * UInt32(k)) }
        position += 4
        return v
    }

    mutating func fixed64() throws(ProtobufError) -> UInt64 {
        guard end - position >= 8 else {
            throw ProtobufError(offset: position, message: "an 8-byte field runs past the end of its message (the file is truncated or corrupt)")
        }
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(bytes[position + k]) << (8 * UInt64(k)) }
        position += 8
        return v
    }

    /// The byte range of a length-delimited field's value.
    mutating func lengthDelimited() throws(ProtobufError) -> Range<Int> {
        let at = position
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw ProtobufError(offset: at, message: "a field declares \(length) bytes but its message has only \(end - position) left (the file is truncated or corrupt)")
        }
        let start = position
        position += Int(length)
        return start..<position
    }

    /// A float (wire type 5).
    mutating func float() throws(ProtobufError) -> Float { Float(bitPattern: try fixed32()) }

    /// A string field's UTF-8 text.
    mutating func string(_ what: String) throws(ProtobufError) -> [UInt8] {
        let at = position
        let r = try lengthDelimited()
        let value = Array(bytes[r])
        guard firstInvalidUTF8(UnsafeBufferPointer(rebasing: bytes[r])) == nil else {
            throw ProtobufError(offset: at, message: "\(what) is not valid UTF-8")
        }
        return value
    }

    /// Skips a field's value.
    mutating func skip(_ type: WireType) throws(ProtobufError) {
        switch type {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try lengthDelimited()
        }
    }

    /// Checks that a field has the wire type its schema gives it.
    func expect(_ type: WireType, _ actual: WireType, field: String, at offset: Int) throws(ProtobufError) {
        guard type == actual else {
            throw ProtobufError(offset: offset, message: "\(field) has wire type \(actual.rawValue), expected \(type.rawValue)")
        }
    }
}

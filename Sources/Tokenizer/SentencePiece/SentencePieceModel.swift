// A SentencePiece `tokenizer.model`: the `ModelProto` message of sentencepiece_model.proto,
// read with ProtobufReader. Only the fields that change encoding or decoding are kept:
//
//   ModelProto      1 pieces (repeated SentencePiece), 2 trainer_spec, 3 normalizer_spec,
//                   5 denormalizer_spec
//   SentencePiece   1 piece (string), 2 score (float), 3 type (enum, default NORMAL)
//   TrainerSpec     3 model_type (default UNIGRAM), 24 treat_whitespace_as_suffix,
//                   35 byte_fallback, 40–43 unk/bos/eos/pad ids, 44 unk_surface
//   NormalizerSpec  1 name, 2 precompiled_charsmap, 3 add_dummy_prefix, 4
//                   remove_extra_whitespaces, 5 escape_whitespaces (the three default true)
//
// The checks are those of sentencepiece's `ModelInterface::InitializePieces`: no empty piece,
// no piece twice (among the pieces text can produce, and among the others), exactly one
// UNKNOWN, BYTE pieces only with byte_fallback and then all 256 of them.

/// A parsed SentencePiece model.
struct SentencePieceModel: Sendable {
    enum PieceType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    struct Piece: Sendable {
        var text: [UInt8]
        var score: Float = 0
        var type: PieceType = .normal
    }

    enum ModelType: Int, Sendable {
        case unigram = 1, bpe = 2, word = 3, char = 4
        var name: String { ["", "UNIGRAM", "BPE", "WORD", "CHAR"][rawValue] }
    }

    var pieces: [Piece] = []
    var modelType: ModelType = .unigram
    var byteFallback = false
    var treatWhitespaceAsSuffix = false
    var unkSurface: [UInt8] = Array(" \u{2047} ".utf8)
    var bosId = 1, eosId = 2, padId = -1, unkIdField = 0
    var normalizerName = ""
    var charsmapSize = 0
    var addDummyPrefix = true
    var removeExtraWhitespaces = true
    var escapeWhitespaces = true
    var denormalizerCharsmapSize = 0
    /// The UNKNOWN piece's id (set by `validate`).
    var unkId = 0

    /// Whether pieces of this type are found in text (sentencepiece's `pieces_`; CONTROL,
    /// UNKNOWN and BYTE pieces are only ever emitted by id).
    static func isMatchable(_ t: PieceType) -> Bool { t == .normal || t == .userDefined || t == .unused }

    /// Parses a `ModelProto`.
    /// - Throws: `ProtobufError` with the byte offset of a malformed field, or of a piece that
    ///   breaks sentencepiece's rules.
    /// - Complexity: O(n) in the file size.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ProtobufError) -> SentencePieceModel {
        var model = SentencePieceModel()
        var pieceOffsets: [Int] = []
        var r = ProtobufReader(bytes, range: 0..<bytes.count)
        while true {
            let at = r.position
            guard let (field, type) = try r.nextField() else { break }
            switch field {
            case 1:
                try r.expect(.lengthDelimited, type, field: "ModelProto.pieces", at: at)
                let range = try r.lengthDelimited()
                pieceOffsets.append(at)
                model.pieces.append(try parsePiece(bytes, range, index: model.pieces.count))
            case 2:
                try r.expect(.lengthDelimited, type, field: "ModelProto.trainer_spec", at: at)
                try parseTrainerSpec(bytes, try r.lengthDelimited(), into: &model)
            case 3, 5:
                try r.expect(.lengthDelimited, type, field: field == 3 ? "ModelProto.normalizer_spec" : "ModelProto.denormalizer_spec", at: at)
                try parseNormalizerSpec(bytes, try r.lengthDelimited(), into: &model, denormalizer: field == 5)
            default:
                try r.skip(type)
            }
        }
        try model.validate(offsets: pieceOffsets)
        return model
    }

    private static func parsePiece(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, index: Int) throws(ProtobufError) -> Piece {
        var piece = Piece(text: [])
        var r = ProtobufReader(bytes, range: range)
        while true {
            let at = r.position
            guard let (field, type) = try r.nextField() else { break }
            switch field {
            case 1:
                try r.expect(.lengthDelimited, type, field: "pieces[\(index)].piece", at: at)
                piece.text = try r.string("pieces[\(index)].piece")
            case 2:
                try r.expect(.fixed32, type, field: "pieces[\(index)].score", at: at)
                piece.score = try r.float()
            case 3:
                try r.expect(.varint, type, field: "pieces[\(index)].type", at: at)
                let v = try r.varint()
                guard let t = PieceType(rawValue: Int(truncatingIfNeeded: v)), v < 8 else {
                    throw ProtobufError(offset: at, message: "pieces[\(index)] has type \(v); known types are 1 (NORMAL) to 6 (BYTE)")
                }
                piece.type = t
            default:
                try r.skip(type)
            }
        }
        return piece
    }

    private static func parseTrainerSpec(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into model: inout SentencePieceModel) throws(ProtobufError) {
        var r = ProtobufReader(bytes, range: range)
        while true {
            let at = r.position
            guard let (field, type) = try r.nextField() else { break }
            func int32(_ name: String) throws(ProtobufError) -> Int {
                try r.expect(.varint, type, field: "trainer_spec.\(name)", at: at)
                return Int(Int32(truncatingIfNeeded: Int64(bitPattern: try r.varint())))
            }
            func bool(_ name: String) throws(ProtobufError) -> Bool {
                try r.expect(.varint, type, field: "trainer_spec.\(name)", at: at)
                return try r.varint() != 0
            }
            switch field {
            case 3:
                let v = try int32("model_type")
                guard let t = ModelType(rawValue: v) else {
                    throw ProtobufError(offset: at, message: "trainer_spec.model_type is \(v); known types are 1 (UNIGRAM) to 4 (CHAR)")
                }
                model.modelType = t
            case 24: model.treatWhitespaceAsSuffix = try bool("treat_whitespace_as_suffix")
            case 35: model.byteFallback = try bool("byte_fallback")
            case 40: model.unkIdField = try int32("unk_id")
            case 41: model.bosId = try int32("bos_id")
            case 42: model.eosId = try int32("eos_id")
            case 43: model.padId = try int32("pad_id")
            case 44:
                try r.expect(.lengthDelimited, type, field: "trainer_spec.unk_surface", at: at)
                model.unkSurface = try r.string("trainer_spec.unk_surface")
            default:
                try r.skip(type)
            }
        }
    }

    private static func parseNormalizerSpec(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into model: inout SentencePieceModel,
                                            denormalizer: Bool) throws(ProtobufError) {
        var r = ProtobufReader(bytes, range: range)
        let spec = denormalizer ? "denormalizer_spec" : "normalizer_spec"
        while true {
            let at = r.position
            guard let (field, type) = try r.nextField() else { break }
            func bool(_ name: String) throws(ProtobufError) -> Bool {
                try r.expect(.varint, type, field: "\(spec).\(name)", at: at)
                return try r.varint() != 0
            }
            switch (field, denormalizer) {
            case (1, false):
                try r.expect(.lengthDelimited, type, field: "\(spec).name", at: at)
                model.normalizerName = String(decoding: try r.string("\(spec).name"), as: UTF8.self)
            case (2, _):
                try r.expect(.lengthDelimited, type, field: "\(spec).precompiled_charsmap", at: at)
                let size = try r.lengthDelimited().count
                if denormalizer { model.denormalizerCharsmapSize = size } else { model.charsmapSize = size }
            case (3, false): model.addDummyPrefix = try bool("add_dummy_prefix")
            case (4, false): model.removeExtraWhitespaces = try bool("remove_extra_whitespaces")
            case (5, false): model.escapeWhitespaces = try bool("escape_whitespaces")
            default:
                try r.skip(type)
            }
        }
    }

    /// sentencepiece's `InitializePieces` checks.
    private mutating func validate(offsets: [Int]) throws(ProtobufError) {
        var matchable: [[UInt8]: Int] = [:]
        var reserved: [[UInt8]: Int] = [:]
        matchable.reserveCapacity(pieces.count)
        var unk: Int?
        var bytesFound = [Bool](repeating: false, count: 256)
        for (i, p) in pieces.enumerated() {
            guard !p.text.isEmpty else {
                throw ProtobufError(offset: offsets[i], message: "pieces[\(i)] is empty; every piece needs text")
            }
            let isMatchable = SentencePieceModel.isMatchable(p.type)
            if let other = isMatchable ? matchable[p.text] : reserved[p.text] {
                throw ProtobufError(offset: offsets[i], message: "pieces[\(i)] \(JSON.quoted(String(decoding: p.text, as: UTF8.self))) is already defined as pieces[\(other)]")
            }
            if isMatchable { matchable[p.text] = i } else { reserved[p.text] = i }
            switch p.type {
            case .unknown:
                if let unk {
                    throw ProtobufError(offset: offsets[i], message: "pieces[\(i)] is a second UNKNOWN piece (the first is pieces[\(unk)])")
                }
                unk = i
            case .byte:
                guard byteFallback else {
                    throw ProtobufError(offset: offsets[i], message: "pieces[\(i)] is a BYTE piece but trainer_spec.byte_fallback is false")
                }
                guard let b = SentencePieceModel.byteValue(p.text) else {
                    throw ProtobufError(offset: offsets[i], message: "pieces[\(i)] is a BYTE piece but \(JSON.quoted(String(decoding: p.text, as: UTF8.self))) is not <0x00>…<0xFF>")
                }
                bytesFound[Int(b)] = true
            default:
                break
            }
        }
        guard let unk else {
            throw ProtobufError(offset: 0, message: "the model has no UNKNOWN piece (sentencepiece requires one)")
        }
        unkId = unk
        if byteFallback, let missing = bytesFound.firstIndex(of: false) {
            throw ProtobufError(offset: 0, message: "trainer_spec.byte_fallback is true but there is no BYTE piece for byte \(missing) (all 256 are needed)")
        }
    }

    /// The byte of a `<0xXX>` piece (two hex digits, as sentencepiece's `PieceToByte`).
    static func byteValue(_ text: [UInt8]) -> UInt8? {
        guard text.count == 6, text.starts(with: Array("<0x".utf8)), text[5] == UInt8(ascii: ">") else { return nil }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        guard let hi = hex(text[3]), let lo = hex(text[4]) else { return nil }
        return hi << 4 | lo
    }
}

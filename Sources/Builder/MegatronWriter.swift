// Megatron-Core's indexed dataset (`megatron/core/datasets/indexed_dataset.py`): `{split}.bin`
// holds every document's ids back to back (see TokenStreamWriter), `{split}.idx` says where
// they are. Byte for byte what `IndexedDatasetBuilder` writes when `preprocess_data.py` adds each
// document as one sequence (`add_document(ids, [len(ids)])`, no sentence splitting):
//
//   "MMIDIDX\0\0"                 9 bytes
//   version                       u64 = 1
//   dtype code                    u8: 8 = uint16 (vocabulary below 65,500 ids), 4 = int32
//   sequence count                u64 (one sequence per document)
//   document count                u64 = documents + 1 (the document indices, a leading 0 included)
//   sequence lengths              int32 × sequences
//   sequence pointers             int64 × sequences: byte offsets in .bin
//   document indices              int64 × (documents + 1): 0, 1, ..., documents
//
// The writer keeps 4 bytes per document (the lengths) and writes the index at the end.

import Foundation

/// The integer type of the ids in `.bin` files: Megatron's `DType.optimal_dtype(vocab_size)`.
enum TokenWidth: Sendable, Equatable {
    case uint16, int32

    init(vocabularySize: Int) { self = vocabularySize < 65_500 ? .uint16 : .int32 }

    var bytes: Int { self == .uint16 ? 2 : 4 }
    /// Megatron's `DType` code.
    var megatronCode: UInt8 { self == .uint16 ? 8 : 4 }
    /// The numpy name for the flat token file (ids are never negative, so int32 bytes are uint32).
    var tokenFileName: String { self == .uint16 ? "uint16" : "uint32" }
}

/// A Megatron `.idx` file's contents.
struct MegatronIndex: Equatable {
    static let magic: [UInt8] = Array("MMIDIDX".utf8) + [0, 0]

    var width: TokenWidth
    var sequenceLengths: [Int32]
    var documentIndices: [Int64]

    /// One sequence per document, as `preprocess_data.py` without `--split-sentences`.
    init(width: TokenWidth, documentLengths: [Int32]) {
        self.width = width
        sequenceLengths = documentLengths
        documentIndices = (0...documentLengths.count).map(Int64.init)
    }

    init(width: TokenWidth, sequenceLengths: [Int32], documentIndices: [Int64]) {
        self.width = width
        self.sequenceLengths = sequenceLengths
        self.documentIndices = documentIndices
    }

    /// The byte offset of each sequence in `.bin`.
    var sequencePointers: [Int64] {
        var pointers: [Int64] = []
        pointers.reserveCapacity(sequenceLengths.count)
        var at: Int64 = 0
        for n in sequenceLengths {
            pointers.append(at)
            at += Int64(n) * Int64(width.bytes)
        }
        return pointers
    }

    /// Writes the index to `file`, streaming the arrays.
    func write(to file: OutputFile) throws(OutputError) {
        var header = MegatronIndex.magic
        appendLittleEndian(UInt64(1), to: &header)
        header.append(width.megatronCode)
        appendLittleEndian(UInt64(sequenceLengths.count), to: &header)
        appendLittleEndian(UInt64(documentIndices.count), to: &header)
        try file.write(header)
        try file.write(littleEndian: sequenceLengths)
        var chunk: [Int64] = []
        chunk.reserveCapacity(1 << 16)
        var at: Int64 = 0
        for n in sequenceLengths {
            chunk.append(at)
            at += Int64(n) * Int64(width.bytes)
            if chunk.count == 1 << 16 { try file.write(littleEndian: chunk); chunk.removeAll(keepingCapacity: true) }
        }
        try file.write(littleEndian: chunk)
        try file.write(littleEndian: documentIndices)
    }

    /// Reads an `.idx` file, checking every field Megatron's `_IndexReader` checks and that the
    /// pointers are the running sum of the lengths.
    static func read(_ path: String) throws -> MegatronIndex {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputFileError(path: path, message: "cannot read the Megatron index")
        }
        let bytes = [UInt8](data)
        var at = 0
        func fail(_ what: String) -> InputFileError { InputFileError(path: path, message: "not a Megatron index: \(what) (byte \(at))") }
        func u64() throws -> UInt64 {
            guard at + 8 <= bytes.count else { throw fail("truncated") }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
            at += 8
            return v
        }
        guard bytes.count >= 9, Array(bytes[0..<9]) == magic else { throw fail("the header is not MMIDIDX") }
        at = 9
        guard try u64() == 1 else { throw fail("version is not 1") }
        guard at < bytes.count else { throw fail("truncated") }
        let code = bytes[at]
        at += 1
        let width: TokenWidth
        switch code {
        case 8: width = .uint16
        case 4: width = .int32
        default: throw fail("dtype code \(code) (finetok reads 8 = uint16 and 4 = int32)")
        }
        guard let sequences = Int(exactly: try u64()), let documents = Int(exactly: try u64()),
              sequences <= bytes.count, documents <= bytes.count, documents >= 1,
              at + sequences * 12 + documents * 8 == bytes.count else {
            throw fail("the sequence and document counts do not fill the \(bytes.count)-byte file")
        }
        func array<T: FixedWidthInteger>(_ count: Int, _ type: T.Type) -> [T] {
            let size = MemoryLayout<T>.size
            let values = (0..<count).map { i -> T in
                var v: T = 0
                for k in 0..<size { v |= T(truncatingIfNeeded: bytes[at + i * size + k]) << (8 * k) }
                return v
            }
            at += count * size
            return values
        }
        let lengths = array(sequences, Int32.self)
        let pointers = array(sequences, Int64.self)
        let docs = array(documents, Int64.self)
        let index = MegatronIndex(width: width, sequenceLengths: lengths, documentIndices: docs)
        guard pointers == index.sequencePointers else { throw fail("the sequence pointers are not the running sum of the lengths") }
        return index
    }
}

func appendLittleEndian<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
    for k in 0..<MemoryLayout<T>.size { out.append(UInt8(truncatingIfNeeded: v >> (8 * k))) }
}

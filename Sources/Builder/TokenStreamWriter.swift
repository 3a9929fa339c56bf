// Pre-training outputs: every document's ids (EOS included) back to back in `{split}.bin`, as
// little-endian uint16 when the vocabulary has fewer than 65,500 ids, else 32-bit. That one file
// serves both formats:
//
//   --format tokens     `{split}.bin` + `{split}.bin.json` (dtype, counts, EOS): nanoGPT's
//                       `train.bin`, OLMo's memmap token files — `np.memmap(path, dtype)` loads it.
//   --format megatron   `{split}.bin` + `{split}.idx` (MegatronWriter): Megatron-Core / NeMo's
//                       indexed dataset, `--data-path {split}`.
//
// Ids go straight from the rows to the file in its integer width, no text in between. Memory:
// 4 bytes per document (Megatron's lengths) and a 1 MB buffer.

import Foundation
import Tokenizer

/// Writes one split's documents as `.bin` (+ `.idx` and/or `.bin.json`).
final class TokenStreamWriter {
    let prefix: String
    let width: TokenWidth
    private let megatron: Bool
    private let tokens: Bool
    private let eosId: UInt32?
    private let vocabularySize: Int
    private let bin: OutputFile
    private var lengths: [Int32] = []
    private var tokenCount = 0
    /// uint16 ids not yet handed to `bin`: raw memory, as an array stored in a class has each
    /// change checked for exclusive access at run time (a short row's append cost ~680
    /// instructions of the writing thread, callgrind).
    private let narrow: UnsafeMutableBufferPointer<UInt16>
    private var narrowed = 0

    /// The file names a split writes for `formats` (in the order the manifest lists them).
    static func files(split: String, formats: [OutputFormat]) -> [String] {
        guard formats.contains(.megatron) || formats.contains(.tokens) else { return [] }
        var names = ["\(split).bin"]
        if formats.contains(.megatron) { names.append("\(split).idx") }
        if formats.contains(.tokens) { names.append("\(split).bin.json") }
        return names
    }

    /// `prefix` is the path without extension (`…/train`).
    init(prefix: String, formats: [OutputFormat], vocabularySize: Int, eosId: UInt32?) throws(OutputError) {
        self.prefix = prefix
        width = TokenWidth(vocabularySize: vocabularySize)
        megatron = formats.contains(.megatron)
        tokens = formats.contains(.tokens)
        self.eosId = eosId
        self.vocabularySize = vocabularySize
        bin = try OutputFile(path: prefix + ".bin")
        narrow = .allocate(capacity: 1 << 19)
    }

    deinit { narrow.deallocate() }

    /// Appends one document.
    func append(_ ids: [UInt32]) throws(OutputError) {
        try ids.withUnsafeBufferPointer { (p) throws(OutputError) in try append(p) }
    }

    /// Appends one document.
    func append(_ ids: UnsafeBufferPointer<UInt32>) throws(OutputError) {
        guard let n = Int32(exactly: ids.count) else {
            throw OutputError(path: bin.path, message: "a document of \(ids.count) tokens is too long for a Megatron index (at most 2^31 - 1)")
        }
        lengths.append(n)
        tokenCount += ids.count
        switch width {
        case .uint16:
            // Narrowed into a fixed 1 MB buffer (a loop the compiler vectorizes), written
            // whenever it fills.
            var at = 0
            while at < ids.count {
                let n = min(ids.count - at, narrow.count - narrowed)
                if let dst = narrow.baseAddress.map({ $0 + narrowed }), let src = ids.baseAddress.map({ $0 + at }) {
                    for i in 0..<n { dst[i] = UInt16(truncatingIfNeeded: src[i]) }
                }
                narrowed += n
                at += n
                if narrowed == narrow.count { try flushNarrow() }
            }
        case .int32:
            try bin.write(UnsafeRawBufferPointer(ids))
        }
    }

    private func flushNarrow() throws(OutputError) {
        try bin.write(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: narrow[0..<narrowed])))
        narrowed = 0
    }

    var documentCount: Int { lengths.count }

    func close() throws(OutputError) {
        try flushNarrow()
        try bin.close()
        if megatron {
            let idx = try OutputFile(path: prefix + ".idx")
            try MegatronIndex(width: width, documentLengths: lengths).write(to: idx)
            try idx.close()
        }
        if tokens {
            let header: JSONOut = .object([
                ("format", .string("tokens")),
                ("file", .string((prefix as NSString).lastPathComponent + ".bin")),
                ("dtype", .string(width.tokenFileName)),
                ("tokens", .int(tokenCount)),
                ("documents", .int(lengths.count)),
                ("eos_id", eosId.map { .int(Int($0)) } ?? .null),
                ("vocab_size", .int(vocabularySize)),
            ])
            let json = try OutputFile(path: prefix + ".bin.json")
            try json.write(header.render() + "\n")
            try json.close()
        }
    }
}

extension Build {
    /// megatron and tokens keep ids only, so every token must be trained on: text rows, `.txt`
    /// corpora, or `--train-on-prompt`.
    static func validateTokenStream(_ o: BuildOptions, template: TemplateChoice) throws {
        guard let f = o.formats.first(where: \.isTokenStream) else { return }
        if !template.isPlainText && !o.encoding.trainOnPrompt {
            throw BuildError.usage("--format \(f.rawValue) stores token ids only, no labels: it is for text rows (--template text) and .txt corpora, but the template \(template.name) masks its prompt; use jsonl, npy or safetensors, or pass --train-on-prompt to keep every token")
        }
    }
}

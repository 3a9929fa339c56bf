// One split's writers for unpacked rows: a writer per output format, the files they write in
// the manifest's order, and their closing. Used by pass 2 (`Build.writeSplit`) and by the rows
// written during pass 1 (`DirectOutput`); packed splits have their own (`PackedSplitWriter`).

import Foundation
import Tokenizer

final class SplitWriters {
    let jsonl: JSONLRowWriter?
    let npy: NPYWriter?
    let safetensors: SafetensorsWriter?
    /// megatron and tokens.
    let documents: TokenStreamWriter?
    /// The files written, in manifest order.
    let files: [String]
    private let name: String
    private let tokenizer: Tokenizer

    /// Opens `name`'s writers for `options.formats`.
    /// - Parameters:
    ///   - rows: the split's row count; npy and safetensors are opened only when it and `width`
    ///     are known, since their headers hold the shape.
    ///   - width: the padded row width (nil when rows are not padded to one width).
    init(split name: String, options: BuildOptions, output: OutputFolder, tokenizer: Tokenizer, eosId: UInt32?,
         rows: Int?, width: Int?) throws(OutputError) {
        self.name = name
        self.tokenizer = tokenizer
        let formats = options.formats
        var files: [String] = []
        if formats.contains(.jsonl) {
            jsonl = try JSONLRowWriter(path: output.temporaryPath("\(name).jsonl"))
            files.append("\(name).jsonl")
        } else {
            jsonl = nil
        }
        if formats.contains(.npy), let rows, let width {
            npy = try NPYWriter(prefix: output.temporaryPath(name), dtype: options.dtype, rows: rows, width: width)
            files += ["input_ids", "attention_mask", "labels"].map { "\(name)_\($0).npy" }
        } else {
            npy = nil
        }
        if formats.contains(.safetensors), let rows, let width {
            safetensors = try SafetensorsWriter(path: output.temporaryPath("\(name).safetensors"), dtype: options.dtype,
                                                rows: rows, width: width)
            files.append("\(name).safetensors")
        } else {
            safetensors = nil
        }
        if formats.contains(where: \.isTokenStream) {
            documents = try TokenStreamWriter(prefix: output.temporaryPath(name), formats: formats,
                                              vocabularySize: tokenizer.vocabularySize, eosId: eosId)
            files += TokenStreamWriter.files(split: name, formats: formats)
        } else {
            documents = nil
        }
        self.files = files
    }

    /// Whether any writer takes padded rows (JSONL, npy, safetensors), not only their ids.
    var wantsRows: Bool { jsonl != nil || wantsArrays }
    /// Whether any writer takes the rows as filled arrays (npy, safetensors).
    var wantsArrays: Bool { npy != nil || safetensors != nil }

    /// Closes every file and records the `wrote:` test stages.
    func close() throws(OutputError) {
        if let jsonl {
            try jsonl.close()
            TestHooks.stage("wrote:\(name).jsonl")
        }
        if let npy {
            try npy.close()
            TestHooks.stage("wrote:\(name)_*.npy")
        }
        if let safetensors {
            try safetensors.close(metadata: Build.safetensorsMetadata(split: name, tokenizer: tokenizer))
            TestHooks.stage("wrote:\(name).safetensors")
        }
        if let documents {
            try documents.close()
            TestHooks.stage("wrote:\(name).bin")
        }
    }
}

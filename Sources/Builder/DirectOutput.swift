// Outputs written during pass 1. When the rows keep their input order (`--test-size 0`, no
// `--pack`) and every output's layout is known before the first row (`jsonl` without
// `--padding longest`, `megatron`, `tokens`; not npy / safetensors, whose headers hold the row
// count), the train split is the rows in the order pass 1 hands them back: they are written
// then, with no spill file and no second pass. The files are byte for byte the spill path's
// (the build tests compare the two).
//
// Why: a JSONL build writes ~14 bytes of text a token. Through the spill, its pass 2 formatted
// and wrote 98 MB after the 32 MB of en had been encoded (~0.2 s of a 0.7 s one-thread build);
// here the rows of a batch are formatted on the thread that hands the batches back and written
// on the JSONL writer's queue, both while the workers encode the next batches, and the disk
// writes start while pass 1 runs (OutputFile), so the final fsync waits for the tail only.

import Foundation
import Tokenizer

/// The train split's writers, fed by pass 1.
final class DirectOutput {
    private let writers: SplitWriters
    private let width: Int?
    private let pad: Int32
    private let side: PaddingSide
    /// The rows of the batch being handed back, for `jsonl` (formatted together in `endBatch`).
    private let pending = RowChunk()
    /// The files written, in manifest order.
    var files: [String] { writers.files }

    /// The direct writers for `o`, or nil when the rows go through the spill file.
    /// - Parameter pad: the pad id (`report.padId`), for `--padding max-length`.
    static func make(_ o: BuildOptions, output: OutputFolder, tokenizer: Tokenizer, eosId: UInt32?, pad: UInt32?) throws -> DirectOutput? {
        guard applies(to: o) else { return nil }
        do {
            return try DirectOutput(o, output: output, tokenizer: tokenizer, eosId: eosId, pad: pad)
        } catch {
            throw BuildError.output(error.description)
        }
    }

    /// Whether a build with options `o` writes its outputs during pass 1.
    static func applies(to o: BuildOptions) -> Bool {
        let known = o.formats.allSatisfy { $0.isTokenStream || ($0 == .jsonl && o.padding != .longest) }
        return o.writeDuringPass1 && o.shard == nil && o.testSize == 0 && o.pack == nil && known
    }

    private init(_ o: BuildOptions, output: OutputFolder, tokenizer: Tokenizer, eosId: UInt32?, pad: UInt32?) throws(OutputError) {
        // Not `--padding longest` (see `make`), so the width does not depend on the rows.
        width = Build.rowWidth(o, longest: 0)
        // No row count: `applies(to:)` leaves out npy and safetensors.
        writers = try SplitWriters(split: "train", options: o, output: output, tokenizer: tokenizer, eosId: eosId,
                                   rows: nil, width: width)
        self.pad = Int32(truncatingIfNeeded: Int(pad ?? 0))
        side = o.paddingSide
    }

    /// Adds one row (in input order); JSONL rows wait for `endBatch`.
    func append(_ row: EncodedRow) throws(OutputError) {
        try writers.documents?.append(row.ids.buffer)
        if writers.jsonl != nil { pending.append(ids: row.ids.buffer, labels: row.labels) }
    }

    /// Formats the rows added since the last call (on this thread) and queues their writes.
    func endBatch() throws(OutputError) {
        guard let jsonl = writers.jsonl, pending.count > 0 else { return }
        try jsonl.write(pending, width: width, pad: pad, side: side, threads: 1)
        pending.removeAll()
    }

    /// Writes what is left and closes the files.
    func close() throws(OutputError) {
        try endBatch()
        try writers.close()
    }
}

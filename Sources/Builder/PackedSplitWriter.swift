// Pass 2 with `--pack N`: each split's examples, in split order, are packed batch by batch
// (Packing) and written as rows of at most N tokens:
//
//   jsonl        {"input_ids", "attention_mask", "labels", "position_ids", "seq_lengths"} per row,
//                unpadded (padded to N with --padding max-length)
//   npy          {split}_{input_ids,attention_mask,labels,position_ids}.npy  (rows, N), padded;
//                {split}_cu_seqlens.npy  1-D: each row's [0, l1, l1+l2, ..., total], one row after
//                the other (each row's list starts with its 0: split the array at its zeros)
//   safetensors  the same five tensors in {split}.safetensors
//
// The rows are counted first from the lengths alone (the arrays' shapes head their files), then
// each batch's examples are read, assembled and formatted in parallel and written in order.
// Memory: one batch of examples (1,000) and its rows.

import Foundation
import Tokenizer

/// What packing did to one split.
public struct PackedSplit: Sendable, Equatable {
    public var split: String
    public var examples: Int
    public var rows: Int
    /// Tokens placed in rows (after bfd's truncation to N).
    public var tokens: Int
    public var capacity: Int
    /// bfd: examples longer than N, cut to their first N tokens (as TRL), and the tokens cut.
    public var truncatedExamples: Int
    public var truncatedTokens: Int

    /// tokens / (rows × N): the share of the packed arrays that is not padding.
    public var efficiency: Double { rows == 0 ? 0 : Double(tokens) / Double(rows * capacity) }
}

extension Build {
    static func validatePacking(_ o: BuildOptions) throws {
        guard let n = o.pack else { return }
        if n < 1 { throw BuildError.usage("--pack must be at least 1, got \(n)") }
        if let f = o.formats.first(where: \.isTokenStream) {
            throw BuildError.usage("--pack makes rows for jsonl, npy and safetensors; --format \(f.rawValue) stores documents, which the trainer packs itself: drop one of them")
        }
        if o.padding == .longest { throw BuildError.usage("--pack N pads arrays to N: use --padding max-length (pads the JSONL rows too) or leave --padding out") }
        if o.padToMultipleOf != nil { throw BuildError.usage("--pad-to-multiple-of does not apply to packed rows (they are padded to --pack N)") }
        if o.paddingSide == .left { throw BuildError.usage("packed rows are padded on the right; drop --padding-side left") }
    }

    /// Packed arrays are N wide; JSONL rows are padded only with `--padding max-length`.
    static func packedWidth(_ n: Int, options: BuildOptions) -> Int? {
        options.padding == .maxLength || options.formats.contains(.npy) || options.formats.contains(.safetensors) ? n : nil
    }

    /// Pass 2 for one split with `--pack`; `lengths[i]` is the length of kept row i.
    static func writePackedSplit(_ name: String, indices: [Int], lengths: [Int32], rows store: RowStore, packer: Packer,
                                 width: Int?, pad: Int32, options: BuildOptions, output: OutputFolder,
                                 report: inout BuildReport, tokenizer: Tokenizer, progress: (Int) -> Void) throws {
        let n = packer.capacity
        let batches = Packer.batches(indices.count)
        func batchLengths(_ b: Range<Int>) -> [Int] { b.map { Int(lengths[indices[$0]]) } }

        // Count first: the shapes head the array files.
        var summary = PackedSplit(split: name, examples: indices.count, rows: 0, tokens: 0, capacity: n,
                                  truncatedExamples: 0, truncatedTokens: 0)
        var cuCount = 0
        for b in batches {
            let ls = batchLengths(b)
            let packed = packer.pack(b, lengths: ls)
            summary.rows += packed.count
            for row in packed {
                for s in row { summary.tokens += s.tokens.count }
                cuCount += packer.strategy == .bfd ? row.count + 1 : 2
            }
            if packer.strategy == .bfd {
                for l in ls where l > n {
                    summary.truncatedExamples += 1
                    summary.truncatedTokens += l - n
                }
            }
        }
        report.packing.append(summary)

        var jsonl: JSONLRowWriter?
        var npy: NPYWriter?
        var npyExtra: [NPYArrayFile] = []
        var st: SafetensorsWriter?
        if options.formats.contains(.jsonl) {
            jsonl = try JSONLRowWriter(path: output.temporaryPath("\(name).jsonl"))
            report.files.append("\(name).jsonl")
        }
        if options.formats.contains(.npy) {
            npy = try NPYWriter(prefix: output.temporaryPath(name), dtype: options.dtype, rows: summary.rows, width: n)
            npyExtra = [try NPYArrayFile(path: output.temporaryPath("\(name)_position_ids.npy"), dtype: options.dtype, shape: [summary.rows, n]),
                        try NPYArrayFile(path: output.temporaryPath("\(name)_cu_seqlens.npy"), dtype: options.dtype, shape: [cuCount])]
            report.files += ["input_ids", "attention_mask", "labels", "position_ids", "cu_seqlens"].map { "\(name)_\($0).npy" }
        }
        if options.formats.contains(.safetensors) {
            let shape = [summary.rows, n]
            st = try SafetensorsWriter(path: output.temporaryPath("\(name).safetensors"), dtype: options.dtype,
                                       tensors: [("input_ids", shape), ("attention_mask", shape), ("labels", shape),
                                                 ("position_ids", shape), ("cu_seqlens", [cuCount])])
            report.files.append("\(name).safetensors")
        }
        let wantArrays = npy != nil || st != nil
        let jsonWidth = options.padding == .maxLength ? width : nil
        let oneSequence = packer.strategy == .wrapped
        let threads = max(1, options.threads)
        for b in batches {
            let packed = packer.pack(b, lengths: batchLengths(b))
            let examples = try store.rows(at: indices[b])
            let first = b.lowerBound
            let prepared = parallelMap(packed.count, threads: threads) { r -> (PackedRow, [UInt8]) in
                var row = PackedRow()
                row.fill(packed[r], example: { examples[$0 - first] }, oneSequence: oneSequence)
                let line = jsonl != nil ? row.padded(to: jsonWidth, pad: pad).jsonLine() : []
                return (row, line)
            }
            for (row, line) in prepared {
                try jsonl?.file.write(line)
                guard wantArrays else { continue }
                let full = row.padded(to: n, pad: pad)
                var cu: [Int32] = [0]
                for l in row.seqLengths { cu.append((cu.last ?? 0) + Int32(l)) }
                try npy?.write(full.arrays)
                if npyExtra.count == 2 {
                    try npyExtra[0].write(full.positionIds)
                    try npyExtra[1].write(cu)
                }
                try st?.write(full.arrays)
                try st?.write(tensor: 3, full.positionIds)
                try st?.write(tensor: 4, cu)
            }
            progress(b.upperBound)
        }
        try jsonl?.close()
        try npy?.close()
        for f in npyExtra { try f.close() }
        try st?.close(metadata: safetensorsMetadata(split: name, tokenizer: tokenizer))
    }
}

extension PackedRow {
    /// The row padded on the right to `width` (pad id, attention 0, label -100, position 0).
    func padded(to width: Int?, pad: Int32) -> PackedRow {
        guard let width, width > arrays.inputIds.count else { return self }
        var r = self
        let extra = width - arrays.inputIds.count
        r.arrays.inputIds.append(contentsOf: repeatElement(pad, count: extra))
        r.arrays.attentionMask.append(contentsOf: repeatElement(0, count: extra))
        r.arrays.labels.append(contentsOf: repeatElement(-100, count: extra))
        r.positionIds.append(contentsOf: repeatElement(0, count: extra))
        return r
    }
}

extension PackedSplit {
    var json: JSONOut {
        .object([("examples", .int(examples)), ("rows", .int(rows)), ("tokens", .int(tokens)),
                 ("efficiency", .double(efficiency)), ("truncated_examples", .int(truncatedExamples)),
                 ("truncated_tokens", .int(truncatedTokens))])
    }
}

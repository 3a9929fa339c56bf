// Step 9 of the build (Build.swift): one split's rows padded and written in every output
// format, and the arrays they are padded into.

import Foundation
import Tokenizer

extension Build {
    static func writeSplit(_ name: String, indices: [Int], spill: RowStore, width: Int?, pad: Int32, options: BuildOptions,
                           output: OutputFolder, report: inout BuildReport, tokenizer: Tokenizer,
                           progress: (Int) -> Void = { _ in }) throws {
        let writers = try SplitWriters(split: name, options: options, output: output, tokenizer: tokenizer,
                                       eosId: report.eosId, rows: indices.count, width: width)
        report.files += writers.files
        // Rows are read in order, then formatted (JSONL) or filled (npy, safetensors) in
        // parallel, then written in order.
        let chunk = 4096
        let threads = max(1, options.threads)
        var start = 0
        while start < indices.count {
            let end = min(start + chunk, indices.count)
            if !writers.wantsRows, let documents = writers.documents {
                // Documents only: ids go from the row file to the token file, no row arrays.
                try spill.forEachIds(at: indices[start..<end]) { (ids) throws(OutputError) in try documents.append(ids) }
                start = end
                progress(end)
                continue
            }
            var rows: [(ids: [UInt32], labels: LabelRanges)] = []
            rows.reserveCapacity(end - start)
            rows += try spill.rows(at: indices[start..<end])
            let side = options.paddingSide
            for row in rows { try writers.documents?.append(row.ids) }
            try writers.jsonl?.write(rows, width: width, pad: pad, side: side, threads: threads)
            if writers.wantsArrays {
                let filled = parallelMap(rows.count, threads: threads) { k -> TrainingArrays in
                    var arrays = TrainingArrays()
                    fill(&arrays, ids: rows[k].ids, labels: rows[k].labels, width: width, pad: pad, side: side)
                    return arrays
                }
                for arrays in filled {
                    try writers.npy?.write(arrays)
                    try writers.safetensors?.write(arrays)
                }
            }
            start = end
            progress(end)
        }
        try writers.close()
    }

    static func safetensorsMetadata(split: String, tokenizer: Tokenizer) -> [(String, String)] {
        [("format", "pt"), ("split", split), ("tokenizer", tokenizer.paths.map { ($0 as NSString).lastPathComponent }.joined(separator: "+"))]
    }

    /// input_ids, attention_mask and labels for one row, padded to `width`.
    static func fill(_ a: inout TrainingArrays, ids: [UInt32], labels: LabelRanges, width: Int?, pad: Int32, side: PaddingSide) {
        let n = ids.count
        let w = max(width ?? n, n)
        let padCount = w - n
        a.inputIds.removeAll(keepingCapacity: true)
        a.attentionMask.removeAll(keepingCapacity: true)
        a.labels.removeAll(keepingCapacity: true)
        a.inputIds.reserveCapacity(w)
        a.attentionMask.reserveCapacity(w)
        a.labels.reserveCapacity(w)
        func padding() {
            for _ in 0..<padCount {
                a.inputIds.append(pad)
                a.attentionMask.append(0)
                a.labels.append(-100)
            }
        }
        if side == .left { padding() }
        labels.forEach(count: ids.count) { i, labelled in
            let id = Int32(truncatingIfNeeded: Int(ids[i]))
            a.inputIds.append(id)
            a.attentionMask.append(1)
            a.labels.append(labelled ? id : -100)
        }
        if side == .right { padding() }
    }
}

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
        // Rows are copied in order into a chunk, then formatted (JSONL) or filled (npy,
        // safetensors) in parallel, then written in order.
        let chunkRows = 4096
        let threads = max(1, options.threads)
        let side = options.paddingSide
        let chunk = RowChunk()
        var start = 0
        while start < indices.count {
            let end = min(start + chunkRows, indices.count)
            if !writers.wantsRows, let documents = writers.documents {
                // Documents only: ids go from the row file to the token file, no copy.
                try spill.forEachIds(at: indices[start..<end]) { (ids) throws(OutputError) in try documents.append(ids) }
                start = end
                progress(end)
                continue
            }
            try spill.read(at: indices[start..<end], into: chunk)
            if let documents = writers.documents {
                for k in 0..<chunk.count { try chunk.withRow(k) { (ids, _) throws(OutputError) in try documents.append(ids) } }
            }
            try writers.jsonl?.write(chunk, width: width, pad: pad, side: side, threads: threads)
            if writers.wantsArrays {
                let filled = parallelMap(chunk.count, threads: threads) { k -> TrainingArrays in
                    var arrays = TrainingArrays()
                    chunk.withRow(k) { ids, labels in fill(&arrays, ids: ids, labels: labels, width: width, pad: pad, side: side) }
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
    /// - Parameter labels: the labelled ranges, sorted and disjoint.
    static func fill(_ a: inout TrainingArrays, ids: some RandomAccessCollection<UInt32>, labels: some Collection<Range<Int>>,
                     width: Int?, pad: Int32, side: PaddingSide) {
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
        var i = 0
        var runs = labels.makeIterator()
        var run = runs.next()
        for id in ids {
            while let r = run, r.upperBound <= i { run = runs.next() }
            let value = Int32(truncatingIfNeeded: Int(id))
            a.inputIds.append(value)
            a.attentionMask.append(1)
            a.labels.append(run.map { $0.contains(i) } ?? false ? value : -100)
            i += 1
        }
        if side == .right { padding() }
    }
}

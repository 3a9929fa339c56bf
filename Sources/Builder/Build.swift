// `finetok build`: the recipe, in order.
//
//   1. read examples     JSONL lines, streamed in batches (LineReader)
//   2. render template   fields → (prompt, completion)            (Template)
//   3. encode segments   prompt and completion → ids, + EOS       (ExampleEncoder)
//   4. mask              -100 on prompt tokens                    (ExampleEncoder)
//   5. truncate          left / right / drop, drop rows with no label
//   6. spill             kept rows → a temporary binary file; 8 bytes of index per row
//   7. split             numpy PCG64 permutation, as HF datasets  (Split)
//   8. pad + write       jsonl / npy / safetensors + manifest, renamed into place (Writers)
//
// Steps 2–5 run in parallel over a batch of lines (one encoder per thread); everything else is
// sequential, so the output is byte-identical whatever the thread count. Memory holds one batch,
// the row index and the writers' buffers, whatever the size of the input.

import Dispatch
import Foundation
import Tokenizer

/// Which template to use.
public enum TemplateSpec: Sendable {
    /// Detect from the first row's fields (and say which).
    case detect
    case preset(TemplatePreset)
    /// A custom template; `name` is shown in reports (e.g. the file it came from).
    case custom(Template, name: String)
}

public enum Padding: String, Sendable, CaseIterable {
    case none
    case longest
    case maxLength = "max-length"
}

public enum PaddingSide: String, Sendable, CaseIterable {
    case right, left
}

public enum OutputFormat: String, Sendable, CaseIterable {
    case jsonl, npy, safetensors
}

/// Everything `finetok build` can be told.
public struct BuildOptions: Sendable {
    public var template: TemplateSpec = .detect
    public var encoding = EncodingSettings()
    /// `--eos-token`: a token other than the tokenizer's end-of-text; nil = the tokenizer's.
    public var eosToken: String?
    /// `--no-eos`.
    public var appendEOS = true
    /// Put the BOS that the tokenizer adds to a plain text before each example (`--no-bos`: off).
    public var addBOS = true
    public var padding: Padding = .none
    public var padToMultipleOf: Int?
    public var paddingSide: PaddingSide = .right
    /// Default: the tokenizer's pad token, else EOS.
    public var padId: UInt32?
    public var testSize: Double = 0.1
    public var seed: UInt64 = 123
    public var formats: [OutputFormat] = [.jsonl]
    public var dtype: OutputDType = .int32
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    public var skipInvalid = false
    public var overwrite = false
    /// Rows per parallel batch.
    public var batchSize = 1024

    public init() {}
}

/// A skipped row, for the report.
public struct SkippedRow: Sendable, Equatable {
    public var path: String
    public var line: Int
    public var reason: String
}

/// What a build did.
public struct BuildReport: Sendable {
    public var templateName = ""
    public var templateDetected = false
    public var rowsRead = 0
    public var blankLines = 0
    public var skipped: [SkippedRow] = []
    public var skippedCount = 0
    public var truncated = 0
    public var tokensCut = 0
    public var droppedTooLong = 0
    public var droppedNoLabels = 0
    public var boundaryDifferences = 0
    public var trainRows = 0
    public var testRows = 0
    /// The padded width, or nil when rows keep their own lengths.
    public var width: Int?
    public var files: [String] = []
    public var lengths: LengthSummary?
    public var eosId: UInt32?
    public var padId: UInt32?
    /// The BOS ids put before each example (empty when none).
    public var bosIds: [UInt32] = []
    public var inputBytes = 0
}

/// Progress of pass 1, for a status line.
/// Progress of a long job, for a status line.
public struct BuildProgress: Sendable {
    public var rows: Int
    public var bytes: Int
    public var totalBytes: Int
    /// Set while writing: the split being written, and how many of its rows are done.
    public var writing: (split: String, done: Int, total: Int)?

    public init(rows: Int, bytes: Int, totalBytes: Int, writing: (split: String, done: Int, total: Int)? = nil) {
        self.rows = rows
        self.bytes = bytes
        self.totalBytes = totalBytes
        self.writing = writing
    }
}

/// A build error: a bad row or option (input) or a failed write (output).
public enum BuildError: Error, Sendable, CustomStringConvertible {
    case usage(String)
    case input(String)
    case output(String)

    public var description: String {
        switch self {
        case .usage(let m), .input(let m), .output(let m): return m
        }
    }
}

public enum Build {
    /// Builds train-ready arrays from JSONL `inputs` into `outputDirectory`.
    /// - Parameters:
    ///   - tokenizerFiles: the tokenizer's files, hashed into the manifest.
    ///   - log: human-readable notes (the chosen template, warnings).
    ///   - progress: called after each batch.
    /// - Throws: `BuildError`; on any error no output file is left behind.
    public static func run(inputs: [String], tokenizer: Tokenizer, options: BuildOptions, outputDirectory: String,
                           log: (String) -> Void = { _ in }, progress: ((BuildProgress) -> Void)? = nil) throws -> BuildReport {
        try validate(options)
        let output = try OutputFolder(path: outputDirectory, overwrite: options.overwrite)
        do {
            let report = try runInto(output, inputs: inputs, tokenizer: tokenizer, options: options, log: log, progress: progress)
            try output.commit()
            return report
        } catch {
            output.discard()
            throw error
        }
    }

    static func validate(_ o: BuildOptions) throws {
        guard o.testSize >= 0 && o.testSize < 1 else {
            throw BuildError.usage("--test-size must be at least 0 and below 1 (a fraction of the rows), got \(o.testSize)")
        }
        if let m = o.encoding.maxLength, m <= 0 { throw BuildError.usage("--max-length must be positive, got \(m)") }
        if o.padding == .maxLength && o.encoding.maxLength == nil {
            throw BuildError.usage("--padding max-length needs --max-length N")
        }
        if let k = o.padToMultipleOf {
            if k <= 0 { throw BuildError.usage("--pad-to-multiple-of must be positive, got \(k)") }
            if o.padding == .none { throw BuildError.usage("--pad-to-multiple-of needs --padding longest or max-length") }
        }
        if o.padding == .none, let f = o.formats.first(where: { $0 != .jsonl }) {
            throw BuildError.usage("--format \(f.rawValue) writes 2-D arrays, which need one row length: add --padding longest (or max-length with --max-length N)")
        }
        if o.threads < 1 { throw BuildError.usage("--threads must be at least 1") }
        if o.formats.isEmpty { throw BuildError.usage("--format needs at least one of jsonl, npy, safetensors") }
    }

    /// The fields of the first row, to detect the template; a first row that is not a JSON
    /// object is reported as the error it is.
    static func firstRowFields(_ inputs: [String]) throws -> (fields: [String], path: String, line: Int)? {
        struct Found: Error { var fields: [String]; var line: Int }
        for path in inputs {
            do {
                try LineReader.forEachLine(path: path) { number, bytes in
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
                    throw Found(fields: try parseJSONLine(bytes, path: path, line: number).map(\.0), line: number)
                }
            } catch let f as Found {
                return (f.fields, path, f.line)
            } catch let e as InputFileError {
                throw BuildError.input(e.description)
            }
        }
        return nil
    }

    static func resolveTemplate(_ o: BuildOptions, inputs: [String], report: inout BuildReport, log: (String) -> Void) throws -> TemplateChoice {
        switch o.template {
        case .preset(let p): report.templateName = p.rawValue; return TemplateChoice(preset: p)
        case let .custom(t, name): report.templateName = name; return TemplateChoice(custom: t, name: name)
        case .detect:
            guard let first = try firstRowFields(inputs) else {
                throw BuildError.input("\(inputs.joined(separator: ", ")): no JSON object rows to build from (the input is empty)")
            }
            guard let preset = TemplatePreset.detect(fields: first.fields) else {
                if first.fields.contains("messages") {
                    throw BuildError.input("\(first.path):\(first.line): \(RowProblem.chatMessages.description)")
                }
                throw BuildError.input("\(first.path):\(first.line): cannot detect the format from the fields \(first.fields.joined(separator: ", ")); expected question/answer, instruction/input/output, instruction/response, input/output, prompt/completion or text — or pass --template NAME / --template-file FILE")
            }
            report.templateName = preset.rawValue
            report.templateDetected = true
            log("template: \(preset.rawValue) (detected from the fields of \(first.path):\(first.line))")
            return TemplateChoice(preset: preset)
        }
    }

    /// The id appended to completions: `--eos-token NAME`, else the tokenizer's end-of-text,
    /// nil under `--no-eos`.
    static func resolveEOS(_ tokenizer: Tokenizer, append: Bool, name: String?) throws -> UInt32? {
        guard append else { return nil }
        if let name {
            guard let id = tokenizer.tokenId(name) else {
                throw BuildError.usage("--eos-token \"\(name)\" is not a token of this tokenizer")
            }
            return id
        }
        guard let id = tokenizer.eosTokenId else {
            throw BuildError.usage("this tokenizer has no end-of-text token; name one with --eos-token or pass --no-eos")
        }
        return id
    }

    static func runInto(_ output: OutputFolder, inputs: [String], tokenizer: Tokenizer, options: BuildOptions,
                        log: (String) -> Void, progress: ((BuildProgress) -> Void)?) throws -> BuildReport {
        var report = BuildReport()
        let template = try resolveTemplate(options, inputs: inputs, report: &report, log: log)
        var settings = options.encoding
        settings.eosId = try resolveEOS(tokenizer, append: options.appendEOS, name: options.eosToken)
        settings.bosIds = options.addBOS ? tokenizer.bosTokenIds : []
        if template.isPlainText { settings.compareModes = false }
        report.eosId = settings.eosId
        report.bosIds = settings.bosIds
        if !settings.joint && !template.isPlainText && tokenizer.addsPrefixToEveryText {
            log("note: this tokenizer adds a leading space marker to every text it encodes, so a completion encoded on its own starts with one; --joint encodes each example as one text, as transformers' tokenizer(prompt + completion) does")
        }
        let padId = options.padId ?? tokenizer.padTokenId ?? settings.eosId ?? tokenizer.eosTokenId
        report.padId = padId
        if options.padding != .none && padId == nil {
            throw BuildError.usage("padding needs a pad id: this tokenizer has no pad or end-of-text token; pass --pad-id")
        }

        // Pass 1: encode everything into the spill file.
        let spill = try SpillFile(path: output.temporaryPath("rows.bin"))
        var lengths: [Int] = []
        var inputHashes: [(String, String, Int)] = []
        let totalBytes = inputs.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        var bytesDone = 0
        let threads = max(1, options.threads)
        let encoders = (0..<threads).map { _ in ExampleEncoder(tokenizer: tokenizer, template: template, settings: settings) }
        for path in inputs {
            // The input's SHA-256 is computed on its own serial queue, beside the encoding.
            let hasher = BackgroundHasher()
            var rowsInFile = 0
            var batch = LineBatch()
            func flush() throws {
                let outcomes = batch.process(encoders)
                for (k, result) in outcomes.enumerated() {
                    guard let outcome = result else { continue }
                    let line = batch.lineNumbers[k]
                    switch outcome {
                    case .blank: report.blankLines += 1
                    case .invalid(let problem):
                        report.rowsRead += 1
                        guard options.skipInvalid else {
                            let col = problem.column.map { ":\($0)" } ?? ""
                            throw BuildError.input("\(path):\(line)\(col): \(problem.description)\(problem.column == nil ? "" : " (or pass --skip-invalid to leave such rows out)")")
                        }
                        report.skippedCount += 1
                        if report.skipped.count < 1000 { report.skipped.append(SkippedRow(path: path, line: line, reason: problem.description)) }
                    case .tooLong:
                        report.rowsRead += 1
                        report.droppedTooLong += 1
                    case .noLabels(let cut):
                        report.rowsRead += 1
                        report.droppedNoLabels += 1
                        if cut > 0 { report.truncated += 1; report.tokensCut += cut }
                    case .ok(let row):
                        report.rowsRead += 1
                        rowsInFile += 1
                        if row.truncatedTokens > 0 { report.truncated += 1; report.tokensCut += row.truncatedTokens }
                        if row.differsInOtherMode { report.boundaryDifferences += 1 }
                        lengths.append(row.ids.count)
                        do { try spill.append(row) } catch { throw BuildError.output(error.description) }
                    }
                }
                bytesDone += batch.byteCount
                batch.removeAll()
                progress?(BuildProgress(rows: report.rowsRead, bytes: bytesDone, totalBytes: totalBytes))
            }
            do {
                try LineReader.forEachLine(path: path, onBlock: { hasher.update($0) }) { number, bytes in
                    batch.append(number, bytes)
                    if batch.count >= options.batchSize || batch.byteCount >= 64 << 20 { try flush() }
                }
                if batch.count > 0 { try flush() }
            } catch let e as InputFileError {
                throw BuildError.input(e.description)
            }
            inputHashes.append((path, hasher.finish(), rowsInFile))
        }
        do { try spill.finishWriting() } catch { throw BuildError.output(error.description) }
        report.inputBytes = bytesDone
        let kept = lengths.count
        if kept == 0 {
            throw BuildError.input("no rows left to write: \(report.rowsRead) read, \(report.skippedCount) invalid, \(report.droppedTooLong) too long, \(report.droppedNoLabels) without a labelled token")
        }
        let maxLen = lengths.max() ?? 0
        report.lengths = LengthSummary(&lengths)
        lengths = []

        // Split.
        let (train, test) = TrainTestSplit.split(kept, testSize: options.testSize, seed: options.seed)
        report.trainRows = train.count
        report.testRows = test.count

        // Width.
        var width: Int?
        switch options.padding {
        case .none: width = nil
        case .longest: width = maxLen
        case .maxLength: width = options.encoding.maxLength
        }
        if let w = width, let k = options.padToMultipleOf { width = (w + k - 1) / k * k }
        report.width = width

        // Pass 2: write each split.
        let pad = Int32(truncatingIfNeeded: Int(padId ?? 0))
        do {
            try spill.openForReading()
            for (name, indices) in [("train", train), ("test", test)] where !indices.isEmpty || name == "train" {
                let rowsRead = report.rowsRead
                try writeSplit(name, indices: indices, spill: spill, width: width, pad: pad, options: options,
                               output: output, report: &report, tokenizer: tokenizer) { done in
                    progress?(BuildProgress(rows: rowsRead, bytes: bytesDone, totalBytes: totalBytes,
                                            writing: (name, done, indices.count)))
                }
            }
            spill.close()
            unlink(spill.path)
        } catch let e as OutputError {
            throw BuildError.output(e.description)
        }

        // Manifest.
        let manifest = Manifest.json(report: report, options: options, settings: settings, template: template,
                                     tokenizer: tokenizer, inputs: inputHashes)
        do {
            let f = try OutputFile(path: output.temporaryPath("manifest.json"))
            try f.write(manifest)
            try f.close()
        } catch { throw BuildError.output(error.description) }
        report.files.append("manifest.json")
        return report
    }

    static func writeSplit(_ name: String, indices: [Int], spill: SpillFile, width: Int?, pad: Int32, options: BuildOptions,
                           output: OutputFolder, report: inout BuildReport, tokenizer: Tokenizer,
                           progress: (Int) -> Void = { _ in }) throws {
        var jsonl: JSONLRowWriter?
        var npy: NPYWriter?
        var st: SafetensorsWriter?
        if options.formats.contains(.jsonl) {
            jsonl = try JSONLRowWriter(path: output.temporaryPath("\(name).jsonl"))
            report.files.append("\(name).jsonl")
        }
        if options.formats.contains(.npy), let w = width {
            npy = try NPYWriter(prefix: output.temporaryPath(name), dtype: options.dtype, rows: indices.count, width: w)
            report.files += ["input_ids", "attention_mask", "labels"].map { "\(name)_\($0).npy" }
        }
        if options.formats.contains(.safetensors), let w = width {
            st = try SafetensorsWriter(path: output.temporaryPath("\(name).safetensors"), dtype: options.dtype, rows: indices.count, width: w)
            report.files.append("\(name).safetensors")
        }
        // Rows are read in order, then filled and formatted in parallel (formatting the JSON
        // text is most of this pass), then written in order.
        let chunk = 4096
        let threads = max(1, options.threads)
        var start = 0
        while start < indices.count {
            let end = min(start + chunk, indices.count)
            var rows: [(ids: [UInt32], masked: Int)] = []
            rows.reserveCapacity(end - start)
            for index in indices[start..<end] { rows.append(try spill.row(index)) }
            let side = options.paddingSide
            let wantJSON = jsonl != nil
            let prepared = parallelMap(rows.count, threads: threads) { k -> (TrainingArrays, [UInt8]) in
                var arrays = TrainingArrays()
                fill(&arrays, ids: rows[k].ids, masked: rows[k].masked, width: width, pad: pad, side: side)
                var line: [UInt8] = []
                if wantJSON { JSONLRowWriter.format(arrays, into: &line) }
                return (arrays, line)
            }
            for (arrays, line) in prepared {
                try jsonl?.file.write(line)
                try npy?.write(arrays)
                try st?.write(arrays)
            }
            start = end
            progress(end)
        }
        try jsonl?.close()
        try npy?.close()
        try st?.close(metadata: [("format", "pt"), ("split", name), ("tokenizer", tokenizer.paths.map { ($0 as NSString).lastPathComponent }.joined(separator: "+"))])
    }

    /// input_ids, attention_mask and labels for one row, padded to `width`.
    static func fill(_ a: inout TrainingArrays, ids: [UInt32], masked: Int, width: Int?, pad: Int32, side: PaddingSide) {
        let n = ids.count
        let w = max(width ?? n, n)
        let padCount = w - n
        a.inputIds.removeAll(keepingCapacity: true)
        a.attentionMask.removeAll(keepingCapacity: true)
        a.labels.removeAll(keepingCapacity: true)
        func padding() {
            for _ in 0..<padCount {
                a.inputIds.append(pad)
                a.attentionMask.append(0)
                a.labels.append(-100)
            }
        }
        if side == .left { padding() }
        for (i, id) in ids.enumerated() {
            a.inputIds.append(Int32(truncatingIfNeeded: Int(id)))
            a.attentionMask.append(1)
            a.labels.append(i < masked ? -100 : Int32(truncatingIfNeeded: Int(id)))
        }
        if side == .right { padding() }
    }
}

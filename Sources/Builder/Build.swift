// `finetok build`: the recipe, in order.
//
//   1. read examples     JSONL lines, streamed in batches (LineReader)
//   2. render template   fields → (prompt, completion)            (Template)
//   3. encode segments   prompt and completion → ids, + EOS       (ExampleEncoder)
//   4. mask              -100 on prompt tokens                    (ExampleEncoder)
//   5. truncate          left / right / drop, drop rows with no label
//   6. spill             kept rows → a temporary binary file; 8 bytes of index per row
//   7. split             numpy PCG64 permutation, as HF datasets  (Split)
//   8. pack (--pack N)   TRL's bfd / wrapped packing of each split  (Packing)
//   9. pad + write       jsonl / npy / safetensors / megatron / tokens + manifest, renamed into
//                        place (Writers, TokenStreamWriter, MegatronWriter)
//
// Steps 2–5 run in parallel over a batch of lines (one encoder per thread), while the previous
// batch is handled in order and the next one read (BatchPipeline); everything else is
// sequential, so the output is byte-identical whatever the thread count. Memory holds one batch,
// the row index and the writers' buffers, whatever the size of the input. `.txt` inputs are cut
// into documents (`--docs`) and take the text template's path. Pre-training outputs in input
// order (`--test-size 0`, megatron / tokens only) are written during pass 1, with no spill file.
// `--shard K/N` stops after step 6 and keeps the spill as a shard folder; `finetok merge` runs
// steps 7–9 over the shards (Shard, Merge).

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
    /// Megatron-Core's indexed dataset: `{split}.bin` + `{split}.idx` (MegatronWriter).
    case megatron
    /// One flat `{split}.bin` of ids + `{split}.bin.json` (TokenStreamWriter).
    case tokens

    /// Documents rather than rows: ids only, no labels or padding.
    var isTokenStream: Bool { self == .megatron || self == .tokens }
}

/// Everything `finetok build` can be told.
public struct BuildOptions: Sendable {
    public var template: TemplateSpec = .detect
    /// For chat rows (`messages` / `conversations`).
    public var chat = ChatOptions()
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
    /// `--pack N`: pack each split's examples into rows of at most N tokens (Packing).
    public var pack: Int?
    /// `--packing`.
    public var packing: PackingStrategy = .bfd
    /// `--docs`: how `.txt` inputs are cut into documents.
    public var documents: DocumentSplit = .blankLines
    /// `--shard K/N`: encode only this shard's part of the input, into a shard folder (Shard).
    public var shard: ShardSpec?
    /// Where the tokenizer came from, recorded in shard folders so `finetok merge` can load it.
    public var tokenizerSource: TokenizerSource?

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
    /// The rows are chat conversations; `templateName` names the chat template (a file, a
    /// bundled name, `vocabulary` or `vocabulary:NAME`).
    public var chat = false
    public var rowsRead = 0
    public var blankLines = 0
    public var skipped: [SkippedRow] = []
    public var skippedCount = 0
    public var truncated = 0
    public var tokensCut = 0
    public var droppedTooLong = 0
    public var droppedNoLabels = 0
    public var boundaryDifferences = 0
    /// Chat rows kept, by the rule that found their assistant spans (generation, prefix,
    /// anchored, all).
    public var chatSpanRules: [String: Int] = [:]
    /// Chat rows whose message data holds strings the tokenizer matches as added tokens.
    public var chatSpecialsInData = 0
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
    /// Per split, with `--pack`.
    public var packing: [PackedSplit] = []
    /// Set by a `--shard` build: its part of the input (global byte offsets over all inputs).
    public var shardRange: Range<Int>?
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
        let output = try OutputFolder(path: outputDirectory, overwrite: options.overwrite, log: log)
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
        if o.padding == .maxLength && o.encoding.maxLength == nil && o.pack == nil {
            throw BuildError.usage("--padding max-length needs --max-length N")
        }
        if let k = o.padToMultipleOf {
            if k <= 0 { throw BuildError.usage("--pad-to-multiple-of must be positive, got \(k)") }
            if o.padding == .none { throw BuildError.usage("--pad-to-multiple-of needs --padding longest or max-length") }
        }
        if o.padding == .none && o.pack == nil, let f = o.formats.first(where: { $0 == .npy || $0 == .safetensors }) {
            throw BuildError.usage("--format \(f.rawValue) writes 2-D arrays, which need one row length: add --padding longest (or max-length with --max-length N)")
        }
        if o.threads < 1 { throw BuildError.usage("--threads must be at least 1") }
        if o.formats.isEmpty { throw BuildError.usage("--format needs at least one of jsonl, npy, safetensors, megatron, tokens") }
        try validatePacking(o)
    }

    /// The fields of the first row, to detect the template; a first row that is not a JSON
    /// object is reported as the error it is. (A pipe is not read twice: `firstLine` keeps what
    /// it read for the pass that follows.)
    static func firstRowFields(_ inputs: [String]) throws -> (fields: [String], path: String, line: Int)? {
        for path in inputs {
            do {
                guard let first = try LineReader.firstLine(path: path, where: { !$0.allSatisfy { $0 == 0x20 || $0 == 0x09 } }) else { continue }
                let fields = try first.bytes.withUnsafeBufferPointer { try parseJSONLine($0, path: path, line: first.line) }
                return (fields.map(\.0), path, first.line)
            } catch let e as InputFileError {
                throw BuildError.input(e.description)
            }
        }
        return nil
    }

    static func resolveTemplate(_ o: BuildOptions, inputs: [String], report: inout BuildReport, log: (String) -> Void,
                                tokenizer: Tokenizer) throws -> TemplateChoice {
        var chatGiven = false
        if case .vocabulary = o.chat.template {} else { chatGiven = true }
        switch o.template {
        case .preset(let p):
            if chatGiven { throw BuildError.usage("give either --template (instruction rows) or --chat-template (chat rows), not both") }
            report.templateName = p.rawValue
            return TemplateChoice(preset: p)
        case let .custom(t, name):
            if chatGiven { throw BuildError.usage("give either --template-file (instruction rows) or --chat-template (chat rows), not both") }
            report.templateName = name
            return TemplateChoice(custom: t, name: name)
        case .detect:
            if chatGiven { return try chatTemplate(o, tokenizer: tokenizer, report: &report, log: log, detectedFrom: nil) }
            guard let first = try firstRowFields(inputs) else {
                throw BuildError.input("\(inputs.joined(separator: ", ")): no JSON object rows to build from (the input is empty)")
            }
            if let format = Conversation.format(fields: first.fields) {
                log("rows: chat \(format == .messages ? "messages" : "ShareGPT conversations") (detected from the fields of \(first.path):\(first.line))")
                return try chatTemplate(o, tokenizer: tokenizer, report: &report, log: log, detectedFrom: first.path)
            }
            guard let preset = TemplatePreset.detect(fields: first.fields) else {
                throw BuildError.input("\(first.path):\(first.line): cannot detect the format from the fields \(first.fields.joined(separator: ", ")); expected question/answer, instruction/input/output, instruction/response, input/output, prompt/completion, text, or chat messages / conversations — or pass --template NAME / --template-file FILE")
            }
            report.templateName = preset.rawValue
            report.templateDetected = true
            log("template: \(preset.rawValue) (detected from the fields of \(first.path):\(first.line))")
            return TemplateChoice(preset: preset)
        }
    }

    /// The chat template of a chat build.
    static func chatTemplate(_ o: BuildOptions, tokenizer: Tokenizer, report: inout BuildReport, log: (String) -> Void,
                             detectedFrom: String?) throws -> TemplateChoice {
        let setup = try ChatSetup(o.chat, tokenizer: tokenizer)
        report.templateName = setup.name
        report.templateDetected = detectedFrom != nil
        report.chat = true
        let first = setup.source.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        log("chat template: \(setup.name)\(setup.template.usesGenerationBlocks ? " ({% generation %} blocks)" : "") — \(first.prefix(60))\(first.count > 60 ? "…" : "")")
        return TemplateChoice(chat: setup)
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

    /// The encoding settings and pad id `options` come to with this tokenizer and template.
    static func resolveSettings(_ options: BuildOptions, tokenizer: Tokenizer, template: TemplateChoice,
                                report: inout BuildReport, log: (String) -> Void = { _ in }) throws -> EncodingSettings {
        var settings = options.encoding
        if template.chat != nil {
            // The template writes BOS and ends turns itself (apply_chat_template tokenizes with
            // add_special_tokens=False); EOS only with --eos or --eos-token.
            settings.eosId = try resolveEOS(tokenizer, append: options.chat.appendEOS || options.eosToken != nil, name: options.eosToken)
            settings.bosIds = []
            settings.compareModes = false
        } else {
            settings.eosId = try resolveEOS(tokenizer, append: options.appendEOS, name: options.eosToken)
            settings.bosIds = options.addBOS ? tokenizer.bosTokenIds : []
        }
        if template.isPlainText { settings.compareModes = false }
        report.eosId = settings.eosId
        report.bosIds = settings.bosIds
        if !settings.joint && !template.isPlainText && template.chat == nil && tokenizer.addsPrefixToEveryText {
            log("note: this tokenizer adds a leading space marker to every text it encodes, so a completion encoded on its own starts with one; --joint encodes each example as one text, as transformers' tokenizer(prompt + completion) does")
        }
        let padId = options.padId ?? tokenizer.padTokenId ?? settings.eosId ?? tokenizer.eosTokenId
        report.padId = padId
        if (options.padding != .none || options.pack != nil) && padId == nil {
            throw BuildError.usage("padding needs a pad id: this tokenizer has no pad or end-of-text token; pass --pad-id")
        }
        return settings
    }

    static func runInto(_ output: OutputFolder, inputs: [String], tokenizer: Tokenizer, options: BuildOptions,
                        log: (String) -> Void, progress: ((BuildProgress) -> Void)?) throws -> BuildReport {
        var report = BuildReport()
        let jsonlInputs = inputs.filter { !InputPart.isText($0) }
        let template = jsonlInputs.isEmpty ? TemplateChoice(preset: .text)
            : try resolveTemplate(options, inputs: jsonlInputs, report: &report, log: log, tokenizer: tokenizer)
        if jsonlInputs.isEmpty { report.templateName = TemplatePreset.text.rawValue }
        try validateTokenStream(options, template: template)
        let settings = try resolveSettings(options, tokenizer: tokenizer, template: template, report: &report, log: log)

        // Pass 1: encode everything into the spill file (or straight into the outputs).
        let plan = try InputPlan(inputs: inputs, shard: options.shard, documents: options.documents)
        report.shardRange = plan.shardRange
        let direct = try directOutput(options, output: output, tokenizer: tokenizer, eosId: settings.eosId)
        let spill = direct == nil ? try SpillFile(path: output.temporaryPath("rows.bin")) : nil
        var lengths: [Int] = []
        var rowsKept = [Int](repeating: 0, count: inputs.count)
        var hashes = [String](repeating: "", count: inputs.count)
        let totalBytes = plan.byteCount
        var bytesDone = 0
        let threads = max(1, options.threads)
        let encoders = (0..<threads).map { _ in ExampleEncoder(tokenizer: tokenizer, template: template, settings: settings) }
        let textEncoders = (0..<threads).map { _ in ExampleEncoder(tokenizer: tokenizer, template: TemplateChoice(preset: .text), settings: settings) }
        for part in plan.parts {
            let path = part.path
            // A whole input's SHA-256 is computed on its own serial queue, beside the encoding
            // (a shard reads only part of a file split between shards: `finetok merge` hashes those).
            let hasher = part.isWholeFile ? BackgroundHasher() : nil
            var rowsInFile = 0
            // Batches encode in the background while the previous one is handled here (BatchPipeline).
            let pipeline = BatchPipeline<RowOutcome> { batch in
                part.isText ? batch.map(textEncoders) { $0.processDocument($1) } : batch.process(encoders)
            }
            var batch = LineBatch()
            func handle(_ batch: LineBatch, _ outcomes: [RowOutcome?]) throws {
                for (k, result) in outcomes.enumerated() {
                    guard let outcome = result else { continue }
                    switch outcome {
                    case .blank: report.blankLines += 1
                    case .invalid(let problem):
                        // The file's line number (a shard counts the lines before its part only here).
                        let line = try part.line(batch.lineNumbers[k])
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
                        if let chat = row.chat {
                            report.chatSpanRules[chat.rule.rawValue, default: 0] += 1
                            if chat.specialsInData { report.chatSpecialsInData += 1 }
                        }
                        lengths.append(row.ids.count)
                        do {
                            if let direct { try direct.append(row.ids) } else { try spill?.append(row) }
                        } catch { throw BuildError.output(error.description) }
                    }
                }
                if bytesDone == 0 { TestHooks.stage("reading") }
                bytesDone += batch.byteCount
                progress?(BuildProgress(rows: report.rowsRead, bytes: bytesDone, totalBytes: totalBytes))
            }
            func flush() throws {
                try pipeline.submit(batch, handle: handle)
                batch = pipeline.takeSpare()
            }
            do {
                let add = { (number: Int, bytes: UnsafeBufferPointer<UInt8>) throws in
                    batch.append(number, bytes)
                    if batch.count >= options.batchSize || batch.byteCount >= 64 << 20 { try flush() }
                }
                if part.isText {
                    try Documents.forEachDocument(path: path, split: options.documents, range: part.range,
                                                  onBlock: { hasher?.update($0) }, add)
                } else {
                    try LineReader.forEachLine(path: path, range: part.range, onBlock: { hasher?.update($0) }, add)
                }
                if batch.count > 0 { try flush() }
                try pipeline.finish(handle: handle)
            } catch let e as InputFileError {
                throw BuildError.input(e.description)
            }
            rowsKept[part.fileIndex] += rowsInFile
            if let hasher { hashes[part.fileIndex] = hasher.finish() }
        }
        do { try spill?.finishWriting() } catch { throw BuildError.output(error.description) }
        TestHooks.stage("spilled")
        report.inputBytes = bytesDone
        if let shard = options.shard {
            guard let spill else { preconditionFailure("a shard always spills") }
            try ShardFolder.write(output, shard: shard, spill: spill, lengths: lengths, rowsKept: rowsKept, hashes: hashes, plan: plan,
                                  report: report, options: options, template: template, tokenizer: tokenizer)
            report.files = ShardFolder.files
            report.lengths = LengthSummary(&lengths)
            return report
        }
        let rows: EncodedRows
        if let direct { rows = .written(direct) } else if let spill { rows = .spilled(spill) } else { preconditionFailure("no spill file") }
        let paths = inputs
        return try writeOutputs(rows, lengths: lengths, inputs: { zip(paths, zip(hashes, rowsKept)).map { ($0, $1.0, $1.1) } },
                                report: report, options: options, settings: settings, template: template, tokenizer: tokenizer,
                                output: output, progress: progress)
    }

    /// Steps 7–9 and the manifest, over the kept rows of a build or of a merge's shards.
    /// - Parameters:
    ///   - lengths: the length of every kept row, in input order.
    ///   - inputs: each input's path, SHA-256 and kept rows (called once, when the manifest is written).
    static func writeOutputs(_ rows: EncodedRows, lengths: [Int], inputs: () throws -> [(String, String, Int)],
                             report: BuildReport, options: BuildOptions, settings: EncodingSettings, template: TemplateChoice,
                             tokenizer: Tokenizer, output: OutputFolder, progress: ((BuildProgress) -> Void)?) throws -> BuildReport {
        var report = report
        var lengths = lengths
        let bytesDone = report.inputBytes, totalBytes = report.inputBytes
        let kept = lengths.count
        if kept == 0 {
            throw BuildError.input("no rows left to write: \(report.rowsRead) read, \(report.skippedCount) invalid, \(report.droppedTooLong) too long, \(report.droppedNoLabels) without a labelled token")
        }
        let maxLen = lengths.max() ?? 0
        let rowLengths = options.pack == nil ? [] : lengths.map { Int32($0) }
        report.lengths = LengthSummary(&lengths)
        lengths = []

        // Split.
        let (train, test) = TrainTestSplit.split(kept, testSize: options.testSize, seed: options.seed)
        report.trainRows = train.count
        report.testRows = test.count
        TestHooks.stage("split")

        // Width.
        var width: Int?
        switch options.padding {
        case .none: width = nil
        case .longest: width = maxLen
        case .maxLength: width = options.encoding.maxLength
        }
        if let w = width, let k = options.padToMultipleOf { width = (w + k - 1) / k * k }
        if let n = options.pack { width = packedWidth(n, options: options) }
        report.width = width

        // Pass 2: write each split.
        let pad = Int32(truncatingIfNeeded: Int(report.padId ?? 0))
        do {
            switch rows {
            case .written(let writer):
                try writer.close()
                report.files += TokenStreamWriter.files(split: "train", formats: options.formats)
            case .spilled(let spill):
                try spill.openForReading()
                for (name, indices) in [("train", train), ("test", test)] where !indices.isEmpty || name == "train" {
                    let rowsRead = report.rowsRead
                    let onProgress = { (done: Int) -> Void in
                        progress?(BuildProgress(rows: rowsRead, bytes: bytesDone, totalBytes: totalBytes,
                                                writing: (name, done, indices.count)))
                    }
                    if let n = options.pack {
                        try writePackedSplit(name, indices: indices, lengths: rowLengths, rows: spill,
                                             packer: Packer(capacity: n, strategy: options.packing), width: width, pad: pad,
                                             options: options, output: output, report: &report, tokenizer: tokenizer, progress: onProgress)
                    } else {
                        try writeSplit(name, indices: indices, spill: spill, width: width, pad: pad, options: options,
                                       output: output, report: &report, tokenizer: tokenizer, progress: onProgress)
                    }
                }
                spill.close()
                spill.removeFiles()
            }
        } catch let e as OutputError {
            throw BuildError.output(e.description)
        }

        // Manifest.
        let manifest = Manifest.json(report: report, options: options, settings: settings, template: template,
                                     tokenizer: tokenizer, inputs: try inputs())
        do {
            let f = try OutputFile(path: output.temporaryPath("manifest.json"))
            try f.write(manifest)
            try f.close()
        } catch { throw BuildError.output(error.description) }
        report.files.append("manifest.json")
        TestHooks.stage("manifest")
        return report
    }

    static func writeSplit(_ name: String, indices: [Int], spill: RowStore, width: Int?, pad: Int32, options: BuildOptions,
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
        var documents: TokenStreamWriter?
        if options.formats.contains(where: \.isTokenStream) {
            documents = try TokenStreamWriter(prefix: output.temporaryPath(name), formats: options.formats,
                                              vocabularySize: tokenizer.vocabularySize, eosId: report.eosId)
            report.files += TokenStreamWriter.files(split: name, formats: options.formats)
        }
        let wantArrays = jsonl != nil || npy != nil || st != nil
        // Rows are read in order, then filled and formatted in parallel (formatting the JSON
        // text is most of this pass), then written in order.
        let chunk = 4096
        let threads = max(1, options.threads)
        var start = 0
        while start < indices.count {
            let end = min(start + chunk, indices.count)
            if !wantArrays, let documents {
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
            let wantJSON = jsonl != nil
            for row in rows { try documents?.append(row.ids) }
            let prepared = parallelMap(rows.count, threads: threads) { k -> (TrainingArrays, [UInt8]) in
                var arrays = TrainingArrays()
                fill(&arrays, ids: rows[k].ids, labels: rows[k].labels, width: width, pad: pad, side: side)
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
        if let jsonl {
            try jsonl.close()
            TestHooks.stage("wrote:\(name).jsonl")
        }
        if let npy {
            try npy.close()
            TestHooks.stage("wrote:\(name)_*.npy")
        }
        if let st {
            try st.close(metadata: safetensorsMetadata(split: name, tokenizer: tokenizer))
            TestHooks.stage("wrote:\(name).safetensors")
        }
        if let documents {
            try documents.close()
            TestHooks.stage("wrote:\(name).bin")
        }
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

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
// Steps 2–5 run in parallel over batches of lines (one encoder per thread), while earlier
// batches are handled in order and the next ones read (BatchPipeline); everything else is
// sequential, so the output is byte-identical whatever the thread count. Memory holds 3 batches,
// the row index and the writers' buffers, whatever the size of the input. `.txt` inputs are cut
// into documents (`--docs`) and take the text template's path. Rows kept in input order
// (`--test-size 0`, no packing; jsonl unless padded to the longest row, megatron, tokens) are
// written during pass 1, with no spill file (DirectOutput).
// `--shard K/N` stops after step 6 and keeps the spill as a shard folder; `finetok merge` runs
// steps 7–9 over the shards (Shard, Merge).

import Dispatch
import Foundation
import Tokenizer

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
        let direct = try DirectOutput.make(options, output: output, tokenizer: tokenizer, eosId: settings.eosId, pad: report.padId)
        let spill = direct == nil ? try SpillFile(path: output.temporaryPath("rows.bin")) : nil
        var lengths: [Int] = []
        var rowsKept = [Int](repeating: 0, count: inputs.count)
        var hashes = [String](repeating: "", count: inputs.count)
        let totalBytes = plan.byteCount
        var bytesDone = 0
        let threads = max(1, options.threads)
        let idle = AtomicCounter()
        let encoders = (0..<threads).map { _ in ExampleEncoder(tokenizer: tokenizer, template: template, settings: settings, threads: threads, idle: idle) }
        let textEncoders = (0..<threads).map { _ in
            ExampleEncoder(tokenizer: tokenizer, template: TemplateChoice(preset: .text), settings: settings, threads: threads, idle: idle)
        }
        for part in plan.parts {
            let path = part.path
            // A whole input's SHA-256 is computed on its own serial queue, beside the encoding
            // (a shard reads only part of a file split between shards: `finetok merge` hashes those).
            let hasher = part.isWholeFile ? BackgroundHasher() : nil
            var rowsInFile = 0
            // Batches encode on the worker threads while earlier ones are handled here (BatchPipeline).
            let isText = part.isText
            let pipeline = BatchPipeline<ExampleEncoder, RowOutcome>(workers: isText ? textEncoders : encoders, idle: idle) { encoder, line in
                isText ? encoder.processDocument(line) : encoder.process(line)
            }
            var batch = LineBatch()
            func handle(_ batch: LineBatch, _ outcomes: inout [RowOutcome?]) throws {
                // The kept rows are counted in locals, stored back once a batch: each change to a
                // variable this nested function captures is checked for exclusive access at run
                // time (three a row were ~200 instructions of the writing thread's ~1,200).
                var kept = 0
                var keptLengths: [Int] = []
                keptLengths.reserveCapacity(outcomes.count)
                defer {
                    report.rowsRead += kept
                    rowsInFile += kept
                    lengths.append(contentsOf: keptLengths)
                }
                // Each outcome is moved out of the array, not copied (a copy, and its release
                // with the array, cost ~350 instructions a short row).
                for k in outcomes.indices {
                    guard let outcome = outcomes[k].take() else { continue }
                    switch consume outcome {
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
                        kept += 1
                        if row.truncatedTokens > 0 { report.truncated += 1; report.tokensCut += row.truncatedTokens }
                        if row.differsInOtherMode { report.boundaryDifferences += 1 }
                        if let chat = row.chat {
                            report.chatSpanRules[chat.rule.rawValue, default: 0] += 1
                            if chat.specialsInData { report.chatSpecialsInData += 1 }
                        }
                        keptLengths.append(row.ids.count)
                        do {
                            if let direct { try direct.append(row) } else { try spill?.append(row) }
                        } catch { throw BuildError.output(error.description) }
                    }
                }
                do { try direct?.endBatch() } catch { throw BuildError.output(error.description) }
                if bytesDone == 0 { TestHooks.stage("reading") }
                bytesDone += batch.byteCount
                progress?(BuildProgress(rows: report.rowsRead + kept, bytes: bytesDone, totalBytes: totalBytes))
            }
            func flush() throws {
                try pipeline.submit(batch, handle: handle)
                batch = pipeline.takeSpare()
            }
            do {
                let add = { (number: Int, bytes: UnsafeBufferPointer<UInt8>) throws in
                    if batch.append(number, bytes, fullAt: options.batchSize) { try flush() }
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

    /// The width rows are padded to, or nil when they keep their own lengths.
    /// - Parameter longest: the longest row (for `--padding longest`).
    static func rowWidth(_ options: BuildOptions, longest: Int) -> Int? {
        if let n = options.pack { return packedWidth(n, options: options) }
        var width: Int?
        switch options.padding {
        case .none: width = nil
        case .longest: width = longest
        case .maxLength: width = options.encoding.maxLength
        }
        if let w = width, let k = options.padToMultipleOf { width = (w + k - 1) / k * k }
        return width
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

        let width = rowWidth(options, longest: maxLen)
        report.width = width

        // Pass 2: write each split.
        let pad = Int32(truncatingIfNeeded: Int(report.padId ?? 0))
        do {
            switch rows {
            case .written(let direct):
                try direct.close()
                report.files += direct.files
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
}

// `finetok lengths`: token-length statistics of a dataset, to choose max_length before building.
//
// The same stages as `build` up to encoding (LineReader → Template → ExampleEncoder, in
// parallel batches), then only the counts are kept: 8 bytes per example (total and prompt
// tokens) plus the line numbers of the K longest. Truncation effects come from the same
// `TruncationPlan` that `build` applies.

import Foundation
import Tokenizer

public struct LengthsOptions: Sendable {
    public var template: TemplateSpec = .detect
    /// For chat rows (`messages` / `conversations`).
    public var chat = ChatOptions()
    public var appendEOS = true
    public var eosToken: String?
    /// Count the BOS the tokenizer adds to a plain text (`--no-bos`: off), as `build` does.
    public var addBOS = true
    public var joint = false
    public var trainOnPrompt = false
    public var maxLength: Int?
    public var truncation: Truncation = .left
    /// How `.txt` inputs become documents.
    public var documents: DocumentSplit = .blankLines
    public var top = 5
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    public var skipInvalid = false
    public var batchSize = 1024

    public init() {}
}

/// One of the longest examples.
public struct LongExample: Sendable, Equatable {
    public var file: String
    public var line: Int
    public var tokens: Int
}

/// A histogram: `counts[i]` examples have a length in `edges[i]..<edges[i+1]`.
public struct Histogram: Sendable, Equatable {
    public var edges: [Int]
    public var counts: [Int]

    /// Bins of a "nice" width (1, 2 or 5 × 10^k) covering 0...maxValue in at most `maxBins` bins.
    static func edges(maxValue: Int, maxBins: Int = 32) -> [Int] {
        var width = 1
        let candidates = [1, 2, 5]
        var scale = 1
        outer: while true {
            for c in candidates {
                width = c * scale
                if (maxValue / width) + 1 <= maxBins { break outer }
            }
            scale *= 10
        }
        let bins = maxValue / width + 1
        return (0...bins).map { $0 * width }
    }

    init(edges: [Int], values: [Int]) {
        self.edges = edges
        var counts = [Int](repeating: 0, count: max(edges.count - 1, 0))
        let width = edges.count > 1 ? edges[1] - edges[0] : 1
        for v in values where !counts.isEmpty {
            counts[min(max(v / width, 0), counts.count - 1)] += 1
        }
        self.counts = counts
    }
}

public struct LengthsReport: Sendable {
    public var inputs: [String] = []
    public var templateName = ""
    public var templateDetected = false
    /// Plain language modelling (nothing masked): prompt statistics are all zero.
    public var plainText = false
    public var eos = true
    /// BOS is counted before each example.
    public var bos = false
    public var examples = 0
    public var skipped = 0
    public var skippedRows: [SkippedRow] = []
    public var blankLines = 0
    public var totalTokens = 0
    public var totalBytes = 0
    public var prompt: LengthSummary
    public var completion: LengthSummary
    public var total: LengthSummary
    public var maxLength: Int?
    public var truncation: Truncation = .left
    public var overMaxLength = 0
    public var truncatedTokens = 0
    public var noLabels = 0
    /// Smallest max_length covering 95%, 99% and 100% of examples.
    public var suggested: (p95: Int, p99: Int, max: Int) = (0, 0, 0)
    public var histogram: Histogram
    public var promptHistogram: Histogram
    public var completionHistogram: Histogram
    public var longest: [LongExample] = []

    public var bytesPerToken: Double { totalTokens == 0 ? 0 : Double(totalBytes) / Double(totalTokens) }

    /// Rounds up to a multiple of `k` (e.g. 64, for suggested max_length values).
    public static func roundUp(_ v: Int, _ k: Int = 64) -> Int { (v + k - 1) / k * k }
}

public enum Lengths {
    /// Smallest value L such that at least `fraction` of `sorted` is ≤ L.
    static func covering(_ sorted: [Int], _ fraction: Double) -> Int {
        guard !sorted.isEmpty else { return 0 }
        let k = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(k, 1), sorted.count) - 1]
    }

    public static func run(inputs: [String], tokenizer: Tokenizer, options: LengthsOptions,
                           log: (String) -> Void = { _ in }, progress: ((BuildProgress) -> Void)? = nil) throws -> LengthsReport {
        if let m = options.maxLength, m <= 0 { throw BuildError.usage("--max-length must be positive, got \(m)") }
        // The template, EOS and encoding settings are resolved exactly as `build` does.
        var buildOptions = BuildOptions()
        buildOptions.template = options.template
        buildOptions.chat = options.chat
        var dummy = BuildReport()
        let jsonl = inputs.filter { !isPlainTextFile($0) }
        let template: TemplateChoice
        if jsonl.isEmpty {
            template = TemplateChoice(preset: .text)
            dummy.templateName = "text"
        } else {
            template = try Build.resolveTemplate(buildOptions, inputs: jsonl, report: &dummy, log: log, tokenizer: tokenizer)
        }
        var settings = EncodingSettings()
        settings.joint = options.joint
        settings.trainOnPrompt = options.trainOnPrompt
        settings.compareModes = false
        settings.maxLength = options.maxLength
        settings.truncation = options.truncation
        if template.chat != nil {
            settings.eosId = try Build.resolveEOS(tokenizer, append: options.chat.appendEOS || options.eosToken != nil, name: options.eosToken)
        } else {
            settings.eosId = try Build.resolveEOS(tokenizer, append: options.appendEOS, name: options.eosToken)
            settings.bosIds = options.addBOS ? tokenizer.bosTokenIds : []
        }
        let threads = max(1, options.threads)
        let idle = AtomicCounter()
        let encoders = (0..<threads).map { _ in ExampleEncoder(tokenizer: tokenizer, template: template, settings: settings, threads: threads, idle: idle) }
        let textEncoders = (0..<threads).map { _ in
            ExampleEncoder(tokenizer: tokenizer, template: TemplateChoice(preset: .text), settings: settings, threads: threads, idle: idle)
        }

        var totals: [Int] = [], prompts: [Int] = []
        var report = LengthsReport(prompt: LengthSummary(&totals), completion: LengthSummary(&totals), total: LengthSummary(&totals),
                                   histogram: Histogram(edges: [0, 1], values: []), promptHistogram: Histogram(edges: [0, 1], values: []),
                                   completionHistogram: Histogram(edges: [0, 1], values: []))
        report.inputs = inputs
        report.templateName = jsonl.isEmpty ? "text" : dummy.templateName
        report.templateDetected = dummy.templateDetected
        report.plainText = jsonl.isEmpty || template.isPlainText
        report.eos = settings.eosId != nil
        report.bos = !settings.bosIds.isEmpty
        report.maxLength = options.maxLength
        report.truncation = options.truncation
        var longest: [LongExample] = []
        let totalBytes = inputs.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        var bytesDone = 0

        for path in inputs {
            let plain = isPlainTextFile(path)
            var batch = LineBatch()
            // Batches are measured on the worker threads while earlier ones are counted here
            // (BatchPipeline, as in a build).
            let pipeline = BatchPipeline(workers: plain ? textEncoders : encoders, idle: idle) { encoder, bytes in
                plain ? encoder.measureText(bytes) : encoder.measure(bytes)
            }
            func handle(_ batch: LineBatch, _ results: inout [Result<(tokens: Int, promptTokens: Int, bytes: Int), RowProblem>??]) throws {
                for (k, r) in results.enumerated() {
                    let line = batch.lineNumbers[k]
                    guard let r = r ?? nil else { report.blankLines += 1; continue }
                    switch r {
                    case .failure(let problem):
                        guard options.skipInvalid else {
                            let col = problem.column.map { ":\($0)" } ?? ""
                            throw BuildError.input("\(path):\(line)\(col): \(problem.description)")
                        }
                        report.skipped += 1
                        if report.skippedRows.count < 1000 { report.skippedRows.append(SkippedRow(path: path, line: line, reason: problem.description)) }
                    case .success(let m):
                        report.examples += 1
                        report.totalTokens += m.tokens
                        report.totalBytes += m.bytes
                        totals.append(m.tokens)
                        prompts.append(m.promptTokens)
                        if let max = options.maxLength {
                            let plan = TruncationPlan(count: m.tokens, promptTokens: m.promptTokens, settings: settings)
                            if m.tokens > max { report.overMaxLength += 1; report.truncatedTokens += m.tokens - max }
                            if plan.outcome == .noLabels { report.noLabels += 1 }
                        }
                        if options.top > 0 && (longest.count < options.top || m.tokens > longest[longest.count - 1].tokens) {
                            longest.append(LongExample(file: path, line: line, tokens: m.tokens))
                            longest.sort { $0.tokens > $1.tokens }
                            if longest.count > options.top { longest.removeLast() }
                        }
                    }
                }
                bytesDone += batch.byteCount
                progress?(BuildProgress(rows: report.examples + report.skipped, bytes: bytesDone, totalBytes: totalBytes))
            }
            func flush() throws {
                try pipeline.submit(batch, handle: handle)
                batch = pipeline.takeSpare()
            }
            do {
                if plain {
                    try Documents.forEachDocument(path: path, split: options.documents) { line, doc in
                        if batch.append(line, doc, fullAt: options.batchSize) { try flush() }
                    }
                } else {
                    try LineReader.forEachLine(path: path) { number, bytes in
                        if batch.append(number, bytes, fullAt: options.batchSize) { try flush() }
                    }
                }
                if batch.count > 0 { try flush() }
                try pipeline.finish(handle: handle)
            } catch let e as InputFileError {
                throw BuildError.input(e.description)
            }
        }
        if report.examples == 0 {
            throw BuildError.input("\(inputs.joined(separator: ", ")): no examples to measure (\(report.skipped) invalid, \(report.blankLines) blank)")
        }
        var completions = zip(totals, prompts).map { $0 - $1 }
        let edges = Histogram.edges(maxValue: totals.max() ?? 0)
        report.histogram = Histogram(edges: edges, values: totals)
        report.promptHistogram = Histogram(edges: edges, values: prompts)
        report.completionHistogram = Histogram(edges: edges, values: completions)
        report.completion = LengthSummary(&completions)
        report.prompt = LengthSummary(&prompts)
        report.total = LengthSummary(&totals)
        report.suggested = (covering(totals, 0.95), covering(totals, 0.99), totals.last ?? 0)
        report.longest = longest
        return report
    }

    /// Whether `path` is a plain-text corpus rather than JSONL: by its extension (`.jsonl` and
    /// `.json` are JSONL, `.txt`, `.text` and `.md` text); for any other name — `-`, a pipe, a
    /// shell's `<(...)`, no extension — by its first non-blank line, which is JSONL when it starts
    /// with `{`. (A pipe's peeked bytes are replayed to the reader, so it is still read once.)
    static func isPlainTextFile(_ path: String) -> Bool {
        let name = path.lowercased()
        if name.hasSuffix(".jsonl") || name.hasSuffix(".json") { return false }
        if name.hasSuffix(".txt") || name.hasSuffix(".text") || name.hasSuffix(".md") { return true }
        let first = try? LineReader.firstLine(path: path) { line in line.contains { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D } }
        guard let found = first ?? nil else { return false }
        let bytes = found.bytes
        return bytes.first { $0 != 0x20 && $0 != 0x09 } != UInt8(ascii: "{")
    }
}

extension ExampleEncoder {
    /// A raw document as the completion (plain language modelling).
    func measureText(_ doc: UnsafeBufferPointer<UInt8>) -> Result<(tokens: Int, promptTokens: Int, bytes: Int), RowProblem>? {
        var ids: [UInt32] = []
        if let bad = tokenizer.encode(strictUTF8: doc, into: &ids, context: context) { return .failure(.invalidUTF8(offset: bad)) }
        return .success((settings.bosIds.count + ids.count + (settings.eosId != nil ? 1 : 0), 0, doc.count))
    }
}

import Builder
import Foundation
import Tokenizer

enum BuildCommand {
    static let usage = """
        usage: finetok build INPUT... --out DIR [options]     (INPUT may be - or a pipe)

        Turns JSONL examples into train-ready input_ids / attention_mask / labels: read → render the
        template → encode prompt and completion → mask the prompt (-100) → truncate → split →
        pack → pad → write. Nothing is written unless the whole build succeeds. Inputs other than
        .jsonl are text corpora: each document (--docs) is one fully trained row, EOS appended.

        template:
          --template NAME        qa, alpaca, instruction-response, input-output, prompt-completion, text
                                 (default: detected from the first row's fields, and printed)
          --template-file FILE   a custom template with {field} placeholders ({{ and }} for braces),
                                 used verbatim (a trailing newline in the file is part of it); the
                                 completion is the last placeholder and everything after it. A
                                 pipe works too: --template-file <(printf '...')
        encoding and labels:
          --joint                encode prompt+completion as one text and mask by byte offsets
                                 (default: encode them separately, as the model sees the prompt)
          --train-on-prompt      keep the prompt's labels (labels = input_ids, as the course does)
          --no-eos               do not append the end-of-text token to the completion
          --no-bos               do not put the BOS token before each example (by default it is
                                 there when the tokenizer adds it to a plain text: Llama, Phi-3, Gemma)
          --eos-token TOKEN      append TOKEN instead of the tokenizer's end-of-text token
          --no-boundary-report   skip counting the rows that would tokenize differently in the
                                 other mode (saves the second encoding of every row)
        \(ChatArguments.help)
        length and padding:
          --max-length N         truncate examples longer than N tokens
          --truncation SIDE      left (default, as the course), right, or drop
          --padding MODE         none (default), longest, max-length
          --pad-to-multiple-of K round the padded length up to a multiple of K
          --padding-side SIDE    right (default) or left
          --pad-id ID            default: the tokenizer's pad token, else end-of-text
        packing:
          --pack N               pack each split's examples into rows of at most N tokens, exactly as
                                 TRL's pack_dataset(N); rows gain position_ids and seq_lengths
          --packing STRATEGY     bfd (default: best-fit decreasing, examples kept whole, longer ones
                                 cut to N) or wrapped (concatenate and cut every N tokens)
        split:
          --test-size F          fraction for the test split (default 0.1; 0 = train only, input order)
          --seed S               shuffle seed (default 123); identical to HF datasets' train_test_split
        output:
          --out DIR              output folder (created if missing; must be empty unless --overwrite).
                                 One build per folder at a time (a second one is refused with the
                                 first one's process id); a partial build left by a killed process
                                 is removed, with a note. Files are fsynced: once build exits 0,
                                 they survive a power cut.
          --format LIST          comma-separated: jsonl (default), npy, safetensors (npy and
                                 safetensors need --padding longest or max-length, or --pack);
                                 megatron ({split}.bin + .idx, Megatron-Core's indexed dataset) and
                                 tokens ({split}.bin of ids + {split}.bin.json) for pre-training
          --docs MODE            .txt documents: blank-lines (default), lines, whole
          --dtype TYPE           int32 (default) or int64 for npy / safetensors
          --overwrite            replace finetok's files in a non-empty DIR
        running:
          --threads N            worker threads (default: all cores); output is identical for any N
          --shard K/N            encode only shard K of N of the inputs (cut at line / document
                                 boundaries) into a shard folder; `finetok merge` joins the folders
                                 into exactly the files one build writes
          --shard auto           K and N from a Slurm job array (SLURM_ARRAY_TASK_ID, _COUNT) or a
                                 Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with --shards N)
          --skip-invalid         skip rows that are not valid examples, and report them
          --quiet                no progress line or summary
        \(Vocabulary.help)

        example (the "Finetuning LLMs" course data with pythia-70m's tokenizer):
          finetok build examples/lamini_docs.jsonl --vocab pythia --template qa --max-length 512 --out out/lamini
        """

    static func run(_ argv: ArraySlice<String>) throws {
        let args = try Arguments(argv, spec: ArgumentSpec(
            valued: Vocabulary.valued.union(["out", "template", "template-file", "eos-token", "max-length", "truncation",
                                             "padding", "pad-to-multiple-of", "padding-side", "pad-id", "test-size", "seed",
                                             "format", "dtype", "threads", "pack", "packing", "docs", "shard", "shards"])
                .union(ChatArguments.valued),
            flags: Vocabulary.flags.union(["joint", "train-on-prompt", "no-eos", "no-bos", "overwrite", "skip-invalid", "quiet", "no-boundary-report"])
                .union(ChatArguments.flags)))
        if args.has("help") { print(usage); return }
        guard !args.positionals.isEmpty else { throw UsageError("no input: give one or more JSONL files or .txt corpora") }
        guard let out = args.value("out") else { throw UsageError("--out DIR is required (the folder to write to)") }
        var o = BuildOptions()
        o.template = try templateSpec(args)
        o.chat = try ChatArguments.options(args)
        o.encoding.joint = args.has("joint")
        o.encoding.compareModes = !args.has("no-boundary-report")
        o.encoding.trainOnPrompt = args.has("train-on-prompt")
        o.appendEOS = !args.has("no-eos")
        o.addBOS = !args.has("no-bos")
        o.eosToken = args.value("eos-token")
        if o.eosToken != nil && !o.appendEOS { throw UsageError("--eos-token and --no-eos contradict each other") }
        o.encoding.maxLength = try args.int("max-length")
        if let t = try args.choice("truncation", Truncation.allCases.map(\.rawValue)) { o.encoding.truncation = Truncation(rawValue: t) ?? .left }
        if let p = try args.choice("padding", Padding.allCases.map(\.rawValue)) { o.padding = Padding(rawValue: p) ?? .none }
        o.padToMultipleOf = try args.int("pad-to-multiple-of", min: 1)
        if let s = try args.choice("padding-side", PaddingSide.allCases.map(\.rawValue)) { o.paddingSide = PaddingSide(rawValue: s) ?? .right }
        if let id = try args.int("pad-id", min: 0) { o.padId = UInt32(clamping: id) }
        if let f = try args.double("test-size") { o.testSize = f }
        if let s = try args.int("seed", min: 0) { o.seed = UInt64(s) }
        if let list = args.value("format") {
            o.formats = []
            for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let f = OutputFormat(rawValue: name) else {
                    throw UsageError("--format takes jsonl, npy, safetensors, megatron, tokens (comma-separated); got \"\(name)\"")
                }
                if !o.formats.contains(f) { o.formats.append(f) }
            }
        }
        if let d = try args.choice("dtype", ["int32", "int64"]) { o.dtype = OutputDType(rawValue: d) ?? .int32 }
        if let t = try args.int("threads", min: 1) { o.threads = t }
        o.skipInvalid = args.has("skip-invalid")
        o.overwrite = args.has("overwrite")
        try PretrainingOptions.apply(args, to: &o)
        let quiet = args.has("quiet")
        let tokenizer = try Vocabulary.load(args)
        if let id = o.padId, Int(id) >= tokenizer.vocabularySize {
            throw UsageError("--pad-id \(id) is outside the vocabulary (0..<\(tokenizer.vocabularySize))")
        }

        let start = Date()
        let report = try withProgress(quiet: quiet) { progress in
            try Build.run(inputs: args.positionals, tokenizer: tokenizer, options: o, outputDirectory: out,
                          log: { if !quiet { Console.note($0) } }, progress: progress)
        }
        if quiet { return }
        let seconds = Date().timeIntervalSince(start)
        var lines: [String] = []
        let template = report.chat ? "chat, \(ChatArguments.describe(templateName: report.templateName))" : report.templateName
        lines.append("template     \(template)\(report.templateDetected ? " (detected)" : "")")
        if let shard = o.shard {
            lines.append("rows         \(report.rowsRead) read → \(report.lengths?.count ?? 0) kept in shard \(shard)")
        } else {
            lines.append("rows         \(report.rowsRead) read → \(report.trainRows) train, \(report.testRows) test")
        }
        if !report.bosIds.isEmpty {
            lines.append("bos          \(report.bosIds.map(String.init).joined(separator: ", ")) before each example (as the tokenizer adds it; --no-bos to leave it out)")
        }
        if report.blankLines > 0 { lines.append("blank lines  \(report.blankLines) skipped") }
        if report.skippedCount > 0 {
            lines.append("invalid      \(report.skippedCount) skipped (--skip-invalid):")
            for s in report.skipped.prefix(20) { lines.append("               \(s.path):\(s.line): \(s.reason)") }
            if report.skippedCount > 20 { lines.append("               ... \(report.skippedCount - 20) more listed in manifest.json") }
        }
        if let m = o.encoding.maxLength {
            lines.append("max length   \(m): \(report.truncated) truncated (\(report.tokensCut) tokens cut, \(o.encoding.truncation.rawValue)), \(report.droppedTooLong) dropped as too long")
        }
        if report.droppedNoLabels > 0 { lines.append("dropped      \(report.droppedNoLabels) with no labelled token left") }
        if !report.chatSpanRules.isEmpty {
            let rules = report.chatSpanRules.sorted { $0.key < $1.key }.map { "\($0.value) by \($0.key)" }.joined(separator: ", ")
            lines.append("labels       \(o.chat.trainOn.rawValue) turns; spans found: \(rules)")
            let mode = o.chat.contentSpecials == .special ? "encoded as control tokens, as HF does; --content-specials text keeps them text" : "encoded as text (--content-specials text)"
            lines.append("specials     \(report.chatSpecialsInData) rows have special-token strings in message data (\(mode))")
        }
        if let l = report.lengths {
            lines.append("tokens       \(l.total) in \(l.count) rows: min \(l.min), mean \(String(format: "%.1f", l.mean)), p95 \(String(format: "%.0f", l.p95)), max \(l.max)")
        }
        if !report.templateName.isEmpty && report.templateName != "text" && o.encoding.compareModes && report.chatSpanRules.isEmpty {
            lines.append("boundary     \(report.boundaryDifferences) rows tokenize differently with \(o.encoding.joint ? "separate" : "--joint") encoding")
        }
        if let w = report.width { lines.append("width        \(w) (padding \(o.padding.rawValue), \(o.paddingSide.rawValue))") }
        lines += PretrainingOptions.summary(report, options: o, out: out)
        lines.append("wrote        \(out)/{\(report.files.joined(separator: ","))}")
        lines.append(String(format: "time         %.2f s (%.1f MB/s)", seconds, Double(report.inputBytes) / 1e6 / max(seconds, 1e-9)))
        Console.out.write(lines.joined(separator: "\n") + "\n")
    }
}

/// Runs a long job with a progress line (on a terminal, unless `quiet`), mapping its
/// `BuildError`s to the CLI's usage / input / output errors.
func withProgress<T>(quiet: Bool, _ body: (@escaping (BuildProgress) -> Void) throws -> T) throws -> T {
    let status = StatusLine(enabled: !quiet && Console.stderrIsTerminal)
    let start = Date()
    defer { status.clear() }
    do {
        return try body { p in status.update(p, start) }
    } catch let e as BuildError {
        switch e {
        case .usage(let m): throw UsageError(m)
        case .input(let m): throw InputError(m)
        case .output(let m): throw IOFailure(m)
        }
    }
}

/// A progress line on standard error, redrawn at most 4 times a second (only on a terminal).
final class StatusLine {
    let enabled: Bool
    private var last = Date.distantPast
    private var shown = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ p: BuildProgress, _ start: Date) {
        guard enabled, Date().timeIntervalSince(last) > 0.25 else { return }
        last = Date()
        let secs = max(Date().timeIntervalSince(start), 1e-9)
        let text: String
        if let w = p.writing {
            text = String(format: "\r\u{1B}[Kfinetok: writing %@ %3.0f%% (%d of %d rows)", w.split,
                          100 * Double(w.done) / Double(max(w.total, 1)), w.done, w.total)
        } else {
            let pct = p.totalBytes > 0 ? String(format: " %3.0f%%", 100 * Double(p.bytes) / Double(p.totalBytes)) : ""
            text = String(format: "\r\u{1B}[Kfinetok: reading%@ %d rows, %.1f MB, %.1f MB/s", pct, p.rows,
                          Double(p.bytes) / 1e6, Double(p.bytes) / 1e6 / secs)
        }
        FileHandle.standardError.write(Data(text.utf8))
        shown = true
    }

    func clear() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)); shown = false }
    }
}

/// Template files (and later chat templates) larger than this are refused: no real one is near
/// it, and a pipe can be endless.
let templateFileLimit = 16 << 20

/// `--template NAME` or `--template-file FILE` (build and lengths). The file may be a pipe, e.g.
/// `--template-file <(printf '...')`; it is read once.
func templateSpec(_ args: Arguments) throws -> TemplateSpec {
    if args.value("template") != nil && args.value("template-file") != nil {
        throw UsageError("give either --template or --template-file, not both")
    }
    if let name = args.value("template") {
        guard let p = TemplatePreset(rawValue: name) else {
            throw UsageError("--template must be one of \(TemplatePreset.allCases.map(\.rawValue).joined(separator: ", ")); got \"\(name)\" (use --template-file for your own)")
        }
        return .preset(p)
    }
    if let file = args.value("template-file") {
        let bytes: [UInt8]
        do { bytes = try LineReader.readAll(path: file, limit: templateFileLimit) } catch { throw InputError("\(error)") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw InputError("\(file): not valid UTF-8 text") }
        do { return .custom(try Template(text), name: file) } catch { throw InputError("\(file): \(error)") }
    }
    return .detect
}

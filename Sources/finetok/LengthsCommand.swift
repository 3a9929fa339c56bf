import Builder
import Foundation
import Tokenizer

enum LengthsCommand {
    static let usage = """
        usage: finetok lengths INPUT... [--vocab V] [--template NAME | --template-file F] [--max-length N]
                               [--no-eos] [--json] [--svg FILE] [--top K]

        Token lengths of a dataset, to choose --max-length before `finetok build`: statistics of the
        prompt, completion (with EOS) and total lengths, what a max length would cut, suggested
        values, a histogram and the longest examples. Same templates, field detection, EOS and
        encoding rules as `build`.
          INPUT                .jsonl examples, or .txt corpora (split by --docs) measured as documents
          --template NAME      as in build (default: detected from the fields)
          --template-file F    a custom template, as in build
          --max-length N       report how many examples exceed N and what truncation would cut
          --truncation SIDE    left (default), right or drop — for the "no labelled token" count
          --joint, --train-on-prompt, --no-eos, --eos-token T, --no-bos   as in build
          --chat-template T, --template-kwargs JSON, --train-on WHAT, --content-specials M, --eos
                               chat rows, as in build
          --docs MODE          .txt documents: blank-lines (default), lines, whole
          --top K              list the K longest examples with file and line (default 5)
          --json               one JSON document instead of the report
          --svg FILE           also write an SVG histogram (prompt, completion, total, max length)
          --threads N          worker threads (default: all cores)
          --skip-invalid       skip rows that are not valid examples instead of stopping
          --quiet              no progress line
        \(Vocabulary.help)

        example: finetok lengths examples/lamini_docs.jsonl --vocab pythia --max-length 256 --svg lengths.svg
        """

    static func run(_ argv: ArraySlice<String>) throws {
        let args = try Arguments(argv, spec: ArgumentSpec(
            valued: Vocabulary.valued.union(["template", "template-file", "max-length", "truncation", "eos-token", "docs", "top", "svg", "threads"])
                .union(ChatArguments.valued),
            flags: Vocabulary.flags.union(["json", "no-eos", "no-bos", "joint", "train-on-prompt", "skip-invalid", "quiet"])
                .union(ChatArguments.flags)))
        if args.has("help") { print(usage); return }
        guard !args.positionals.isEmpty else { throw UsageError("no input: give one or more .jsonl or .txt files") }
        var o = LengthsOptions()
        o.template = try templateSpec(args)
        o.chat = try ChatArguments.options(args)
        o.maxLength = try args.int("max-length")  // checked by Lengths.run, as build checks it
        if let t = try args.choice("truncation", Truncation.allCases.map(\.rawValue)) { o.truncation = Truncation(rawValue: t) ?? .left }
        o.appendEOS = !args.has("no-eos")
        o.addBOS = !args.has("no-bos")
        o.eosToken = args.value("eos-token")
        o.joint = args.has("joint")
        o.trainOnPrompt = args.has("train-on-prompt")
        if let d = try args.choice("docs", DocumentSplit.allCases.map(\.rawValue)) { o.documents = DocumentSplit(rawValue: d) ?? .blankLines }
        o.top = try args.int("top", min: 0) ?? 5
        if let t = try args.int("threads", min: 1) { o.threads = t }
        o.skipInvalid = args.has("skip-invalid")
        let tokenizer = try Vocabulary.load(args)
        let report = try withProgress(quiet: args.has("quiet")) { progress in
            // The report names the template itself, so the log note is not printed.
            try Lengths.run(inputs: args.positionals, tokenizer: tokenizer, options: o, log: { _ in }, progress: progress)
        }
        if let svgPath = args.value("svg") {
            let names = args.positionals.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
            let vocabName = (args.value("vocab") ?? "gpt2")
            let svg = report.svg(title: "Token lengths — \(names) (\((vocabName as NSString).lastPathComponent))")
            try writeAtomically(svg, to: svgPath)
        }
        if args.has("json") {
            Console.out.write(report.json())
        } else {
            Console.out.write(human(report))
        }
    }

    /// Writes via a temporary file and a rename, so a failure leaves no partial file.
    static func writeAtomically(_ text: String, to path: String) throws {
        let tmp = path + ".finetok-partial-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else {
            throw IOFailure("\(path): cannot write (check the folder exists and is writable)")
        }
        if rename(tmp, path) != 0 {
            unlink(tmp)
            throw IOFailure("\(path): cannot write: \(String(cString: strerror(errno)))")
        }
    }

    static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 && c != "-" { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    static func human(_ r: LengthsReport) -> String {
        var lines: [String] = []
        let what = r.plainText ? "documents" : "examples"
        lines.append("\(r.inputs.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")) · template \(r.templateName)\(r.templateDetected ? " (detected)" : "") · \(r.bos ? "BOS first · " : "")\(r.eos ? "EOS appended" : "no EOS")")
        lines.append("\(what.padding(toLength: 11, withPad: " ", startingAt: 0)) \(grouped(r.examples)) read\(r.skipped > 0 ? ", \(r.skipped) skipped (invalid)" : "")\(r.blankLines > 0 ? ", \(r.blankLines) blank lines" : "")")
        lines.append("tokens      \(grouped(r.totalTokens)) total · \(String(format: "%.2f", r.bytesPerToken)) bytes per token")
        lines.append("")
        func row(_ name: String, _ s: LengthSummary) -> String {
            name.padding(toLength: 12, withPad: " ", startingAt: 0)
                + [String(s.min), String(format: "%.1f", s.mean), String(format: "%.0f", s.p50), String(format: "%.0f", s.p90),
                   String(format: "%.0f", s.p95), String(format: "%.0f", s.p99), String(s.max)]
                .map { String(repeating: " ", count: max(0, 8 - $0.count)) + $0 }.joined()
        }
        lines.append("            " + ["min", "mean", "p50", "p90", "p95", "p99", "max"].map { String(repeating: " ", count: 8 - $0.count) + $0 }.joined())
        if !r.plainText {
            lines.append(row("prompt", r.prompt))
            lines.append(row(r.eos ? "compl.+EOS" : "completion", r.completion))
        }
        lines.append(row(r.plainText ? "document" : "total", r.total))
        lines.append("")
        if let m = r.maxLength {
            let pct = 100 * Double(r.overMaxLength) / Double(max(r.examples, 1))
            lines.append("max_length \(m): \(grouped(r.overMaxLength)) \(what) (\(String(format: "%.1f", pct))%) exceed it; \(r.truncation == .drop ? "--truncation drop would leave them out" : "truncation (\(r.truncation.rawValue)) would cut \(grouped(r.truncatedTokens)) tokens"); \(r.noLabels) would have no labelled token left")
        }
        let s = r.suggested
        lines.append("suggested max_length: 95% → \(s.p95) (\(LengthsReport.roundUp(s.p95))), 99% → \(s.p99) (\(LengthsReport.roundUp(s.p99))), 100% → \(s.max) (\(LengthsReport.roundUp(s.max)))   (rounded up to a multiple of 64)")
        lines.append("")
        lines.append("histogram of \(r.plainText ? "document" : "total") length (bins of \(r.histogram.edges.count > 1 ? r.histogram.edges[1] : 1) tokens)")
        let peak = max(r.histogram.counts.max() ?? 1, 1)
        let blocks = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        let labelWidth = String(r.histogram.edges.last ?? 0).count * 2 + 1
        for (i, c) in r.histogram.counts.enumerated() {
            let lo = r.histogram.edges[i], hi = r.histogram.edges[i + 1] - 1
            let label = "\(lo)–\(hi)"
            let eighths = Int((Double(c) / Double(peak) * 40 * 8).rounded())
            var bar = String(repeating: "█", count: eighths / 8) + blocks[eighths % 8]
            if c > 0 && bar.isEmpty { bar = "▏" }
            var mark = ""
            if let m = r.maxLength, lo <= m && m <= hi { mark = "  ◀ max_length \(m)" }
            lines.append("  " + String(repeating: " ", count: max(0, labelWidth - label.count)) + label + " " + bar + " \(c)" + mark)
        }
        if let m = r.maxLength, m > (r.histogram.edges.last ?? 0) { lines.append("  (max_length \(m) is beyond the longest \(what))") }
        if !r.longest.isEmpty {
            lines.append("")
            lines.append("longest")
            for e in r.longest { lines.append(String(format: "  %7d tokens  ", e.tokens) + "\(e.file):\(e.line)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

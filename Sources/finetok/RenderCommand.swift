import Builder
import Foundation
import Tokenizer

enum RenderCommand {
    static let usage = """
        usage: finetok render INPUT.jsonl... [--chat-template T] [--vocab V] [--template-kwargs JSON]
                              [--train-on WHAT] [--tokens | --json] [--skip-invalid]

        Shows what the model will see: each chat row ({"messages": ...} or ShareGPT) rendered with
        the chat template exactly as transformers' apply_chat_template, with the parts that are
        trained on marked — the same rendering and labels as `finetok build`.

          (default)        the text; trained-on parts in green on a terminal, else between ⟦ and ⟧
          --tokens         one token per line: id, the text it covers (JSON string), its label
                           (the id, or -100)
          --json           one object per row: {"line": N, "text": "...", "spans": [[start, end], ...]}
                           (UTF-8 byte offsets into text); with --skip-invalid a refused row is
                           {"line": N, "error": "..."}
          --skip-invalid   show refused rows and go on, instead of stopping at the first
        \(ChatArguments.help)
        \(Vocabulary.help)

        example: finetok render chat.jsonl --vocab vocab/phi3 --tokens
        """

    static func run(_ argv: ArraySlice<String>) throws {
        let args = try Arguments(argv, spec: ArgumentSpec(
            valued: Vocabulary.valued.union(ChatArguments.valued),
            flags: Vocabulary.flags.union(ChatArguments.flags).union(["tokens", "json", "skip-invalid"])))
        if args.has("help") { print(usage); return }
        guard !args.positionals.isEmpty else { throw UsageError("no input: give one or more JSONL files of chat rows") }
        if args.has("tokens") && args.has("json") { throw UsageError("give either --tokens or --json, not both") }
        let options = try ChatArguments.options(args)
        let tokenizer = try Vocabulary.load(args)
        let colour = Console.stdoutIsTerminal && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        do {
            try ChatPreview.run(inputs: args.positionals, tokenizer: tokenizer, options: options, withTokens: args.has("tokens"),
                                skipInvalid: args.has("skip-invalid")) { row in
                if args.has("json") {
                    Console.out.write(json(row) + "\n")
                } else if args.has("tokens") {
                    Console.out.write(tokens(row))
                } else {
                    Console.out.write(text(row, colour: colour))
                }
            }
        } catch let e as BuildError {
            switch e {
            case .usage(let m): throw UsageError(m)
            case .input(let m): throw InputError(m)
            case .output(let m): throw IOFailure(m)
            }
        }
    }

    static func json(_ row: ChatPreviewRow) -> String {
        guard let text = row.text else {
            return "{\"line\": \(row.line), \"error\": \(JSON.quoted(row.error ?? ""))}"
        }
        let spans = row.spans.map { "[\($0.lowerBound), \($0.upperBound)]" }.joined(separator: ", ")
        return "{\"line\": \(row.line), \"text\": \(JSON.quoted(String(decoding: text, as: UTF8.self))), \"spans\": [\(spans)]}"
    }

    static func header(_ row: ChatPreviewRow) -> String {
        if let error = row.error { return "── \(row.path):\(row.line) · refused: \(error)\n" }
        return "── \(row.path):\(row.line) · labels by \(row.rule)\n"
    }

    static func text(_ row: ChatPreviewRow, colour: Bool) -> String {
        guard let text = row.text else { return header(row) + "\n" }
        let (open, close) = colour ? ("\u{1B}[32m", "\u{1B}[0m") : ("⟦", "⟧")
        var out: [UInt8] = Array(header(row).utf8)
        var at = 0
        for span in row.spans {
            out += text[at..<span.lowerBound]
            out += Array(open.utf8) + text[span] + Array(close.utf8)
            at = span.upperBound
        }
        out += text[at...]
        if out.last != 0x0A { out.append(0x0A) }
        out.append(0x0A)
        return String(decoding: out, as: UTF8.self)
    }

    static func tokens(_ row: ChatPreviewRow) -> String {
        guard let text = row.text else { return header(row) + "\n" }
        var lines = [header(row).dropLast()].map(String.init)
        for t in row.tokens {
            let piece = String(decoding: text[t.range], as: UTF8.self)
            lines.append("\(t.id)\t\(JSON.quoted(piece))\t\(t.labelled ? String(t.id) : "-100")")
        }
        return lines.joined(separator: "\n") + "\n\n"
    }
}

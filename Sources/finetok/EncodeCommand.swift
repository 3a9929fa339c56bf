import Builder
import Foundation
import Tokenizer

enum EncodeCommand {
    static let usage = """
        usage: finetok encode [--vocab V] (--text T | --input FILE | FILE | -) [--jsonl] [--field NAME] [options]

        Encodes text to token ids, printed as JSON arrays.
          --text T             encode T; prints one JSON array
          --input FILE, FILE   a .jsonl file: encodes each row's --field, one array per row, in order;
                               any other file (or - for standard input) is one text. A pipe works
                               as a file does (e.g. <(zcat docs.jsonl.gz) with --jsonl).
          --jsonl              read the input as JSONL rows whatever its name (e.g. - for standard
                               input); implied by --field
          --field NAME         the JSONL field to encode (default: text)
          --add-special-tokens apply the tokenizer.json post-processor (e.g. a BOS token)
        \(Vocabulary.help)

        examples: finetok encode --vocab pythia --text "Hello World from China!"
                  cat docs.jsonl | finetok encode --jsonl -
        """

    static func run(_ argv: ArraySlice<String>) throws {
        let args = try Arguments(argv, spec: ArgumentSpec(
            valued: Vocabulary.valued.union(["text", "input", "field"]),
            flags: Vocabulary.flags.union(["add-special-tokens", "jsonl"])))
        if args.has("help") { print(usage); return }
        let input = args.value("input") ?? args.positionals.first
        if args.positionals.count > 1 { throw UsageError("expected one input, got \(args.positionals.joined(separator: " "))") }
        if args.value("text") != nil && input != nil { throw UsageError("give either --text or an input file, not both") }
        let rows = args.has("jsonl") || args.value("field") != nil
        if rows && args.value("text") != nil {
            throw UsageError("--jsonl and --field read rows from an input file (or - for standard input), not from --text")
        }
        guard args.value("text") != nil || input != nil else {
            throw UsageError("nothing to encode: give --text T, --input FILE, or - for standard input")
        }
        let tokenizer = try Vocabulary.load(args)
        let special = args.has("add-special-tokens")
        var line: [UInt8] = []
        if let text = args.value("text") {
            appendJSONArray(tokenizer.encode(text, addSpecialTokens: special), to: &line)
            line.append(0x0A)
            Console.out.write(bytes: line)
            return
        }
        guard let input else { return }
        if rows || input.hasSuffix(".jsonl") {
            let field = args.value("field") ?? "text"
            let context = EncodingContext()
            var ids: [UInt32] = []
            try LineReader.forEachLine(path: input) { number, bytes in
                if JSON.isBlankLine(bytes) { return }
                let row = try parseJSONLine(bytes, path: input, line: number)
                guard let value = row.last(where: { $0.0 == field })?.1 else {
                    throw InputFileError(path: input, line: number, message: "the row has no \"\(field)\" field (choose another with --field; the row has: \(row.map(\.0).joined(separator: ", ")))")
                }
                guard case .string(let text) = value else {
                    throw InputFileError(path: input, line: number, message: "field \"\(field)\" is \(value.typeDescription), expected a string")
                }
                ids.removeAll(keepingCapacity: true)
                tokenizer.encode(text, into: &ids, context: context)
                if special { ids = tokenizer.specialTokensAround.prefix + ids + tokenizer.specialTokensAround.suffix }
                line.removeAll(keepingCapacity: true)
                appendJSONArray(ids, to: &line)
                line.append(0x0A)
                Console.out.write(bytes: line)
            }
            return
        }
        let bytes = try LineReader.readAll(path: input)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw InputFileError(path: input, message: "not valid UTF-8 text")
        }
        appendJSONArray(tokenizer.encode(text, addSpecialTokens: special), to: &line)
        line.append(0x0A)
        Console.out.write(bytes: line)
    }
}

import Builder
import Foundation
import Tokenizer

enum DecodeCommand {
    static let usage = """
        usage: finetok decode [--vocab V] (--ids 1,2,3 | --input FILE | FILE | -) [--skip-special] [--json]

        Decodes token ids to text (invalid UTF-8 becomes U+FFFD, as HF tokenizers does).
          --ids LIST           comma- or space-separated ids; prints the text
          --input FILE, FILE   a .jsonl file of id arrays: one decoded JSON string per line; any other
                               file (or -) holds one JSON array or a comma/space-separated list
          --skip-special       leave out special tokens
          --json               print the text as a JSON string
        \(Vocabulary.help)

        example: finetok decode --vocab pythia --ids 12092,3645,432,4135,2
        """

    static func run(_ argv: ArraySlice<String>) throws {
        let args = try Arguments(argv, spec: ArgumentSpec(
            valued: Vocabulary.valued.union(["ids", "input"]),
            flags: Vocabulary.flags.union(["skip-special", "json"])))
        if args.has("help") { print(usage); return }
        let input = args.value("input") ?? args.positionals.first
        if args.value("ids") != nil && input != nil { throw UsageError("give either --ids or an input file, not both") }
        guard args.value("ids") != nil || input != nil else {
            throw UsageError("nothing to decode: give --ids 1,2,3, --input FILE, or - for standard input")
        }
        let tokenizer = try Vocabulary.load(args)
        let skip = args.has("skip-special")
        func decode(_ ids: [UInt32], _ where_: String) throws -> String {
            do { return try tokenizer.decode(ids, skipSpecialTokens: skip) } catch {
                throw InputError("\(where_)\(error.description)")
            }
        }
        func emit(_ text: String) {
            Console.out.write(args.has("json") ? JSON.quoted(text) + "\n" : text + "\n")
        }
        if let list = args.value("ids") {
            emit(try decode(try parseIdList(list, where: "--ids"), ""))
            return
        }
        guard let input else { return }
        if input.hasSuffix(".jsonl") {
            try LineReader.forEachLine(path: input) { number, bytes in
                if JSON.isBlankLine(bytes) { return }
                let value: JSONValue
                do { value = try JSON.parse(bytes) } catch let error as JSONError {
                    throw InputFileError(path: input, line: number, column: error.offset + 1, message: "malformed JSON: \(error.message)")
                }
                let ids = try idArray(value, where: "\(input):\(number)")
                Console.out.write(JSON.quoted(try decode(ids, "\(input):\(number): ")) + "\n")
            }
            return
        }
        let bytes = try LineReader.readAll(path: input)
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let ids: [UInt32]
        if text.hasPrefix("[") {
            let value: JSONValue
            do { value = try JSON.parse(text) } catch { throw InputFileError(path: input, message: "malformed JSON: \(error.message)") }
            ids = try idArray(value, where: input)
        } else {
            ids = try parseIdList(text, where: input)
        }
        emit(try decode(ids, "\(input): "))
    }

    static func idArray(_ value: JSONValue, where w: String) throws -> [UInt32] {
        guard case .array(let items) = value else { throw InputError("\(w): expected a JSON array of ids, found \(value.typeDescription)") }
        return try items.enumerated().map { i, v in
            guard let n = v.intValue, n >= 0, n <= Int(UInt32.max) else {
                throw InputError("\(w): item \(i) is \(v.typeDescription == "a number" ? "\(v)" : v.typeDescription), expected a non-negative integer id")
            }
            return UInt32(n)
        }
    }

    static func parseIdList(_ s: String, where w: String) throws -> [UInt32] {
        let parts = s.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" || $0 == "\t" })
        return try parts.map { p in
            guard let n = UInt32(p) else { throw InputError("\(w): \"\(p)\" is not a token id (expected non-negative integers)") }
            return n
        }
    }
}

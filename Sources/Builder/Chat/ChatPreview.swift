// `finetok render`: what the model will see — each chat row rendered by its template, with the
// byte spans that are trained on, and optionally the tokens with their labels. The same code
// path as `build` (ExampleEncoder.chatExample), so what is shown is what is built.

import Foundation
import Tokenizer

/// One chat row as `render` shows it.
public struct ChatPreviewRow: Sendable {
    public var path: String
    public var line: Int
    /// The rendered text (nil when the row is refused).
    public var text: [UInt8]?
    /// Labelled UTF-8 byte ranges of `text`.
    public var spans: [Range<Int>] = []
    /// How the spans were found: generation, prefix, anchored, all.
    public var rule: String = ""
    /// With tokens: id, the byte range of `text` it covers, whether it is labelled.
    public var tokens: [(id: UInt32, range: Range<Int>, labelled: Bool)] = []
    /// Why the row was refused.
    public var error: String?
}

public enum ChatPreview {
    /// Renders every chat row of `inputs` in order, calling `body` for each (blank lines skipped).
    /// - Parameters:
    ///   - withTokens: also encode and label the tokens.
    ///   - skipInvalid: report a refused row to `body` (with `error`) instead of stopping.
    /// - Throws: `BuildError` for unreadable inputs, a missing or broken template, or (without
    ///   `skipInvalid`) the first refused row, located at file:line.
    public static func run(inputs: [String], tokenizer: Tokenizer, options: ChatOptions, withTokens: Bool,
                           skipInvalid: Bool, _ body: (ChatPreviewRow) throws -> Void) throws {
        let setup = try ChatSetup(options, tokenizer: tokenizer)
        var settings = EncodingSettings()
        settings.compareModes = false
        settings.eosId = try Build.resolveEOS(tokenizer, append: options.appendEOS, name: nil)
        let encoder = ExampleEncoder(tokenizer: tokenizer, template: TemplateChoice(chat: setup), settings: settings)
        for path in inputs {
            do {
                try LineReader.forEachLine(path: path) { number, line in
                    guard let parsed = encoder.parse(line) else { return }
                    var row = ChatPreviewRow(path: path, line: number)
                    let result: Result<ChatExample, RowProblem>
                    switch parsed {
                    case .failure(let p): result = .failure(p)
                    case .success(let members): result = encoder.chatExample(members, setup, encode: withTokens)
                    }
                    switch result {
                    case .failure(let problem):
                        guard skipInvalid else {
                            let col = problem.column.map { ":\($0)" } ?? ""
                            throw BuildError.input("\(path):\(number)\(col): \(problem.description)")
                        }
                        row.error = problem.description
                    case .success(let e):
                        row.text = e.text
                        row.spans = e.spans
                        row.rule = e.rule.rawValue
                        if withTokens {
                            var ids = e.ids, labels = e.labels
                            if let eos = settings.eosId {
                                ids.append(eos)
                                labels = LabelRanges(labels.ranges + [(ids.count - 1)..<ids.count])
                            }
                            let ranges = e.text.withUnsafeBufferPointer { tokenizer.tokenRanges(e.ids, text: $0) }
                            labels.forEach(count: ids.count) { t, labelled in
                                let range = t < ranges.count ? ranges[t] : e.text.count..<e.text.count
                                row.tokens.append((ids[t], range, labelled))
                            }
                        }
                    }
                    try body(row)
                }
            } catch let e as InputFileError {
                throw BuildError.input(e.description)
            }
        }
    }
}

// `finetok info`: what a vocabulary loaded as — the first thing to run on a new model folder.

import Foundation
import Tokenizer

enum InfoCommand {
    static let usage = """
        usage: finetok info [--vocab V] [--all]

        Prints what finetok loaded: the files, the kind of tokenizer, the vocabulary size, the
        pipeline (normalizer, pre-tokenizer, model, post-processor, decoder), BOS / EOS / pad / unk
        with their ids and where they come from, the maximum length, the chat template, and the
        added and special tokens.
          --all                list every added token (default: the first 20)
        \(Vocabulary.help)

        example: finetok info --vocab vocab/phi3
        """

    static func run(_ argv: ArraySlice<String>) throws {
        let args = try Arguments(argv, spec: ArgumentSpec(valued: Vocabulary.valued, flags: Vocabulary.flags.union(["all"])))
        if args.has("help") { print(usage); return }
        if let extra = args.positionals.first { throw UsageError("unexpected argument \"\(extra)\" (name the vocabulary with --vocab)") }
        let tokenizer = try Vocabulary.load(args)
        Console.out.write(describe(tokenizer, vocab: args.value("vocab") ?? "gpt2", all: args.has("all")))
    }

    /// The report, one `label  value` line per fact.
    static func describe(_ t: Tokenizer, vocab: String, all: Bool) -> String {
        var lines: [(String, String)] = []
        let files = t.paths + (t.config?.files ?? [])
        lines.append(("vocab", "\(vocab) → \(files.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))"))
        for (stage, value) in t.pipelineDescription { lines.append((stage, value)) }
        let added = t.addedTokens.filter { Int($0.id) >= t.modelVocabularySize }.count
        lines.append(("vocabulary", "\(t.vocabularySize) ids (\(t.modelVocabularySize) in the model\(added > 0 ? ", \(added) added beyond it" : ""))"))

        func named(_ id: UInt32) -> String {
            let text = (try? t.decode([id])) ?? "?"
            let content = t.addedTokens.last(where: { $0.id == id })?.content ?? text
            return "\(JSON.quoted(content)) = \(id)"
        }
        let config = t.config
        let (prefix, suffix) = t.specialTokensAround
        let policySource: String
        if let config, config.addBosToken != nil || config.addEosToken != nil {
            policySource = "tokenizer_config.json add_bos_token / add_eos_token, as transformers"
        } else if t.format == .tokenizerJSON {
            policySource = "the tokenizer.json post-processor"
        } else {
            policySource = t.format == .sentencePiece ? "sentencepiece's encode adds none" : ""
        }
        lines.append(("BOS", prefix.isEmpty ? "none added to a text\(policySource.isEmpty ? "" : " (\(policySource))")"
            : "\(prefix.map(named).joined(separator: ", ")) before every text (\(policySource)); build puts it before each example (--no-bos)"))
        if !suffix.isEmpty { lines.append(("EOS added", "\(suffix.map(named).joined(separator: ", ")) after every text (\(policySource))")) }
        if let eos = t.eosTokenId {
            let source = config?.eosToken != nil ? "tokenizer_config.json eos_token" : "the first of <|endoftext|>, <|end_of_text|>, </s>, <eos>, <|im_end|>"
            lines.append(("EOS", "\(named(eos)) (\(source)); build appends it to each completion (--no-eos, --eos-token)"))
        } else {
            lines.append(("EOS", "none found\(config?.eosToken.map { ": the config names \(JSON.quoted($0)), which is not a token" } ?? ""); build needs --eos-token or --no-eos"))
        }
        if let pad = t.padTokenId {
            lines.append(("pad", "\(named(pad)) (\(config?.hasPadTokenKey == true ? "tokenizer_config.json pad_token" : "a known pad token name"))"))
        } else {
            lines.append(("pad", "none; build pads with EOS (--pad-id to choose)"))
        }
        if let unk = config?.unkToken { lines.append(("unk", t.tokenId(unk).map { "\(JSON.quoted(unk)) = \($0)" } ?? "\(JSON.quoted(unk)) (not a token)")) }
        if let max = config?.modelMaxLength { lines.append(("max length", "\(max) (model_max_length)")) }
        if let templates = config?.chatTemplates, !templates.isEmpty {
            for template in templates {
                let first = template.source.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
                let shown = first.count > 100 ? String(first.prefix(100)) + "…" : first
                lines.append(("chat template", "\(template.name) (\(template.source.count) characters, \(template.source.split(separator: "\n", omittingEmptySubsequences: false).count) lines): \(shown)"))
            }
        } else {
            lines.append(("chat template", "none"))
        }

        let width = lines.map(\.0.count).max() ?? 0
        var out = lines.map { $0.0.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n") + "\n"
        let tokens = t.addedTokens.sorted { $0.id < $1.id }
        if !tokens.isEmpty {
            out += "\nadded tokens (\(tokens.count), \(tokens.filter(\.special).count) special)\n"
            let shown = all ? tokens : Array(tokens.prefix(20))
            for tok in shown {
                var flags: [String] = []
                if tok.special { flags.append("special") }
                if tok.lstrip { flags.append("lstrip") }
                if tok.rstrip { flags.append("rstrip") }
                if tok.singleWord { flags.append("single_word") }
                if tok.normalized { flags.append("normalized") }
                out += "  \(String(tok.id).padding(toLength: 8, withPad: " ", startingAt: 0))\(JSON.quoted(tok.content))\(flags.isEmpty ? "" : "  " + flags.joined(separator: ", "))\n"
            }
            if shown.count < tokens.count { out += "  ... \(tokens.count - shown.count) more (--all lists them)\n" }
        }
        return out
    }
}

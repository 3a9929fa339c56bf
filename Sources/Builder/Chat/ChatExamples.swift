// The row stage for chat rows: conversation → the model's chat template → one text → ids, as
// transformers' `apply_chat_template(messages, tokenize=True)` gives them (`tokenizer(text,
// add_special_tokens=False)`: the template writes BOS itself) → labels on the tokens that
// overlap an assistant span (AssistantSpans.swift), -100 elsewhere → truncation as for any row.
//
// With `--content-specials text`, added tokens are not matched where the text came from message
// data (the template engine reports those bytes), so a user's "<|im_end|>" stays text.

import Jinja
import Tokenizer

/// One conversation rendered, encoded and labelled (before truncation).
struct ChatExample {
    var text: [UInt8]
    var ids: [UInt32]
    /// Labelled token positions.
    var labels: LabelRanges
    /// Labelled byte ranges of `text`.
    var spans: [Range<Int>]
    var rule: SpanRule
    /// Whether message data holds strings the tokenizer matches as added tokens.
    var specialsInData: Bool
}

extension ExampleEncoder {
    /// Renders, encodes and labels one chat row.
    func chatExample(_ row: [(String, JSONValue)], _ chat: ChatSetup, encode: Bool = true) -> Result<ChatExample, RowProblem> {
        let format: ChatFormat = row.contains(where: { $0.0 == "messages" }) ? .messages
            : row.contains(where: { $0.0 == "conversations" }) ? .sharegpt : .messages
        let conversation: Conversation
        do { conversation = try Conversation(row: row, format: format) } catch { return .failure(error) }

        let prepared: ChatTemplate.Prepared
        let full: RenderedChat
        do {
            prepared = try chat.template.prepare(messages: .array(conversation.messages), tools: conversation.tools,
                                                 variables: chat.variables, options: .init(dropNullValues: true))
            full = RenderedChat(try chat.template.render(prepared, messageCount: prepared.messageCount,
                                                         addGenerationPrompt: false, clock: chat.clock))
        } catch {
            return .failure(.chat("the chat template refuses this conversation: \(error)"))
        }
        let matches = full.text.withUnsafeBufferPointer { tokenizer.addedTokenMatches(in: $0) }
        let found: (spans: [Range<Int>], rule: SpanRule)
        do throws(SpanError) {
            found = try AssistantSpans.find(conversation, rendered: full, usesGenerationBlocks: chat.template.usesGenerationBlocks,
                                            trainOn: chat.trainOn, addedTokens: matches.map(\.range)) { count, generationPrompt in
                // The last assistant turn's end is the whole conversation: already rendered.
                if count == prepared.messageCount && !generationPrompt { return full }
                do throws(JinjaError) {
                    return RenderedChat(try chat.template.render(prepared, messageCount: count, addGenerationPrompt: generationPrompt,
                                                                 clock: chat.clock))
                } catch {
                    throw SpanError(message: error.description)
                }
            }
        } catch {
            return .failure(.chat(error.message))
        }

        var example = ChatExample(text: full.text, ids: [], labels: .none, spans: found.spans, rule: found.rule, specialsInData: false)
        full.text.withUnsafeBufferPointer { text in
            example.specialsInData = !full.data.isEmpty && matches.contains { m in AssistantSpans.overlaps(m.content, full.data) }
            guard encode else { return }
            tokenizer.encode(utf8: text, into: &example.ids, context: context,
                             plain: chat.contentSpecials == .text ? full.data : [])
            if found.rule == .all {
                example.labels = .suffix(from: 0, count: example.ids.count)
            } else if !found.spans.isEmpty {
                example.labels = ExampleEncoder.tokensOverlapping(found.spans, tokens: tokenizer.tokenRanges(example.ids, text: text))
            }
        }
        return .success(example)
    }

    /// The positions of the tokens that overlap any of `spans` (sorted, disjoint byte ranges) —
    /// transformers' rule for assistant masks: a token is in when it ends after a span's start
    /// and starts before its end.
    /// - Complexity: O(tokens + spans).
    static func tokensOverlapping(_ spans: [Range<Int>], tokens: [Range<Int>]) -> LabelRanges {
        var ranges: [Range<Int>] = []
        var k = 0
        var runStart = -1
        for (t, r) in tokens.enumerated() {
            while k < spans.count && r.lowerBound >= spans[k].upperBound { k += 1 }
            let inSpan = k < spans.count && r.upperBound > spans[k].lowerBound && r.lowerBound < spans[k].upperBound
            if inSpan && runStart < 0 { runStart = t }
            if !inSpan && runStart >= 0 { ranges.append(runStart..<t); runStart = -1 }
        }
        if runStart >= 0 { ranges.append(runStart..<tokens.count) }
        return LabelRanges(ranges)
    }

    /// The row stage for a chat row: labels, EOS when asked, truncation.
    func processChat(_ row: [(String, JSONValue)], _ chat: ChatSetup) -> RowOutcome {
        switch chatExample(row, chat) {
        case .failure(let p): return .invalid(p)
        case .success(var e):
            if let eos = settings.eosId {
                e.ids.append(eos)
                e.labels = LabelRanges(e.labels.ranges + [(e.ids.count - 1)..<e.ids.count])
            }
            var outcome = finish(ids: e.ids, labels: e.labels, differs: false)
            if case .ok(var r) = outcome {
                r.chat = ChatRowFacts(rule: e.rule, specialsInData: e.specialsInData)
                outcome = .ok(r)
            }
            return outcome
        }
    }
}

/// What a chat row adds to the report.
struct ChatRowFacts: Sendable {
    var rule: SpanRule
    var specialsInData: Bool
}

extension RenderedChat {
    init(_ r: ChatRendering) {
        self.init(text: r.utf8, generation: r.generationSpans, data: r.dataSpans)
    }
}

// Where the assistant turns are in a rendered conversation: the UTF-8 byte ranges whose tokens
// are trained on. Three rules, in order of preference:
//
// 1. Generation blocks. A template with `{% generation %}` marks the assistant text itself;
//    those ranges are used as transformers' `return_assistant_tokens_mask` uses them.
// 2. The prefix rule (transformers / TRL's definition). For assistant message i, with R the
//    render of the whole conversation:
//        start = |render(messages[:i], add_generation_prompt=True)|
//        end   = |render(messages[:i+1])|
//    valid when both renders are prefixes of R (the template renders earlier turns the same
//    whatever follows them).
// 3. Anchored turns, where the prefix rule fails for a turn (Qwen3 and DeepSeek-R1 drop earlier
//    turns' reasoning, Phi-3.5 puts EOS after the last turn only, Mistral moves the system
//    prompt into the last user turn, Gemma 4 adds an empty thought channel to the generation
//    prompt). From the same two prefix renders, U = render(messages[:i+1]) and
//    H = render(messages[:i], add_generation_prompt=True), and P = render(messages[:i]):
//        header = U[lcp(P, U) ..< max(lcp(P, U), lcp(H, U))]   the turn's opening ("<|im_start|>assistant\n")
//        turn   = U[max(lcp(P, U), lcp(H, U))...]             the assistant text and its end-of-turn marker
//    and the turn is found in R after the previous turn: past the next occurrence of `header`
//    that is template text (not inside message data), R continues with `turn` — then that is
//    the span. Otherwise the message's content anchors it: the content's occurrence in R (inside
//    message data), extended backwards over the template text that precedes the content in
//    `turn` and R alike (but not over a tail of H: that ends the prompt, as Mistral's "[/INST]"
//    does), and forwards over the longest common prefix of what follows the content
//    in `turn` and in R (the end-of-turn marker, e.g. "<|im_end|>\n" when R goes on with the next
//    user turn, though U ended with "</s>"). A turn that cannot be found is an error for its row,
//    never a guess.
// Every assistant message is located (trained on or not) so each search starts after the one
// before; only the selected ones are returned.
//
// Cost: rules 2–3 render the conversation 1 + 3k times for k assistant turns (the conversation
// is converted to template values once).

import Tokenizer

/// A rendered conversation: UTF-8 text, the `{% generation %}` ranges, and the ranges whose
/// bytes came from message data rather than from the template.
struct RenderedChat {
    var text: [UInt8]
    var generation: [Range<Int>]
    var data: [Range<Int>]
}

/// Renders the first `count` messages of the conversation, with or without the generation
/// prompt; throws when the template refuses.
typealias PrefixRenderer = (_ count: Int, _ addGenerationPrompt: Bool) throws -> RenderedChat

/// Which turns are trained on (`--train-on`).
public enum TrainOn: String, Sendable, CaseIterable {
    /// Every assistant message (minus those marked `"train": false`).
    case assistant
    /// Only the last assistant message.
    case lastAssistant = "last-assistant"
    /// The whole text.
    case all
}

/// How a row's spans were found (counted in the report).
enum SpanRule: String, Sendable {
    case generation, prefix, anchored, all
}

/// Why the assistant turns of a row could not be located.
struct SpanError: Error, Sendable {
    var message: String
}

enum AssistantSpans {
    /// The byte ranges of `rendered.text` to train on, and the rule that found them.
    /// - Parameters:
    ///   - usesGenerationBlocks: the template has `{% generation %}` blocks.
    ///   - addedTokens: where the tokenizer matches added tokens in the text (sorted): an
    ///     anchored turn never ends inside one.
    /// - Throws: `SpanError` when a turn cannot be located.
    static func find(_ conversation: Conversation, rendered full: RenderedChat, usesGenerationBlocks: Bool,
                     trainOn: TrainOn, addedTokens: [Range<Int>] = [], render: PrefixRenderer) throws(SpanError) -> (spans: [Range<Int>], rule: SpanRule) {
        if trainOn == .all { return ([0..<full.text.count], .all) }
        let assistants = conversation.messages.indices.filter { conversation.role($0) == "assistant" }
        var selected = Set(assistants.filter { conversation.trainable[$0] })
        if trainOn == .lastAssistant { selected = selected.intersection(assistants.suffix(1)) }
        if selected.isEmpty { return ([], .prefix) }

        // 1. Generation blocks: the k-th block is the k-th assistant message's.
        if usesGenerationBlocks {
            let blocks = full.generation
            if blocks.count == assistants.count {
                return (zip(assistants, blocks).filter { selected.contains($0.0) }.map(\.1), .generation)
            }
            if selected.count == assistants.count && trainOn == .assistant {
                return (blocks, .generation)
            }
            // Blocks that do not pair with messages (a template that skips some) cannot honour
            // per-message choices: fall through to the rules below.
        }

        // 2 and 3, turn by turn.
        var spans: [Range<Int>] = []
        var cursor = 0
        var anchored = false
        for i in assistants {
            let upto: RenderedChat, head: RenderedChat
            func refused(_ error: Error) -> SpanError {
                SpanError(message: "cannot locate assistant message \(i + 1): the template refuses the conversation up to it (\(error)); use --train-on all, or a template with {% generation %} blocks")
            }
            do {
                upto = try render(i + 1, false)
                head = try render(i, true)
            } catch {
                throw refused(error)
            }
            let span: Range<Int>
            if isPrefix(head.text, of: full.text) && isPrefix(upto.text, of: full.text) && upto.text.count >= head.text.count
                && head.text.count >= cursor {
                span = head.text.count..<upto.text.count
            } else {
                anchored = true
                // Only the anchored rule needs the conversation before the turn without the
                // generation prompt (a third render per turn).
                let before: RenderedChat
                do { before = try render(i, false) } catch { throw refused(error) }
                guard let s = anchor(turn: i, in: conversation, full: full, upto: upto.text, head: head.text,
                                     before: before.text, from: cursor, tokens: addedTokens) else {
                    throw SpanError(message: "cannot locate assistant message \(i + 1) in the rendered text (the template renders it differently in the whole conversation than alone); use --train-on all, or a template with {% generation %} blocks")
                }
                span = s
            }
            if selected.contains(i) && !span.isEmpty { spans.append(span) }
            cursor = max(cursor, span.upperBound)
        }
        return (spans, anchored ? .anchored : .prefix)
    }

    /// Rule 3 for one turn (see the file header).
    static func anchor(turn i: Int, in conversation: Conversation, full: RenderedChat, upto: [UInt8], head: [UInt8],
                       before: [UInt8], from cursor: Int, tokens: [Range<Int>]) -> Range<Int>? {
        let r = full.text
        let a = commonPrefix(before[...], upto[...])
        let b = max(a, commonPrefix(head[...], upto[...]))
        let header = upto[a..<b]
        let turn = Array(upto[b...])
        func literal(_ x: Range<Int>) -> Bool { !overlaps(x, full.data) }

        // The content's first occurrence after the previous turn that is a whole run of message
        // data (not a word inside a longer message), else the first inside data at all.
        var content: (inTurn: Range<Int>, inText: Range<Int>)?
        if let text = anchorText(conversation.messages[i]), !text.isEmpty,
           let k = find(text[...], in: turn, from: 0, where: { _ in true }) {
            let inData: (Range<Int>) -> Bool = { full.data.isEmpty || isCovered($0, full.data) }
            if let q = find(text[...], in: r, from: cursor, where: { inData($0) && isWholeRun($0, full.data) })
                ?? find(text[...], in: r, from: cursor, where: inData) {
                content = (k, q)
            }
        }
        // The turn's opening: the last literal occurrence of `header` before the content (or
        // the first after the previous turn, without content).
        var p = cursor
        if !header.isEmpty {
            if let c = content {
                var at = cursor
                while let h = find(header, in: r, from: at, where: literal), h.upperBound <= c.inText.lowerBound {
                    p = h.upperBound
                    at = h.lowerBound + 1
                }
            } else if let h = find(header, in: r, from: cursor, where: literal) {
                p = h.upperBound
            }
        }
        // The turn as rendered alone, there in full.
        if !turn.isEmpty && r[p...].starts(with: turn) { return p..<(p + turn.count) }

        if let (k, q) = content {
            // Only template text is taken around the content: never another message's data.
            let dataBefore = full.data.last { $0.upperBound <= q.lowerBound }?.upperBound ?? 0
            let dataAfter = full.data.first { $0.lowerBound >= q.upperBound }?.lowerBound ?? r.count
            // Text before the content that ends the generation prompt (a tail of H, such as
            // Mistral's "[/INST]") is the prompt's, not the turn's.
            let promptTail = commonSuffix(head[...], turn[..<k.lowerBound])
            let back = min(commonSuffix(turn[..<k.lowerBound], r[min(max(p, dataBefore), q.lowerBound)..<q.lowerBound]),
                           k.lowerBound - promptTail)
            var forward = commonPrefix(turn[k.upperBound...], r[q.upperBound..<max(dataAfter, q.upperBound)])
            // What both go on with may open the next turn ("<|START_OF_TURN_TOKEN|><|" before a
            // user or an assistant header alike): a tail that begins the generation prompt is not
            // the end of this turn.
            let generationPrompt = head[commonPrefix(before[...], head[...])...]
            if forward > 0 {
                let tail = r[(q.upperBound)..<(q.upperBound + forward)]
                forward -= longestSuffixThatIsPrefix(of: tail, prefixOf: generationPrompt)
            }
            var start = q.lowerBound - back, end = q.upperBound + forward
            // Nor does a turn end inside an added token ("<" of "<|user|>"): it ends before it.
            if let cut = tokens.first(where: { $0.lowerBound < end && end < $0.upperBound }) { end = max(cut.lowerBound, q.upperBound) }
            // Where one of the prefix renders does line up with R, it decides that end exactly.
            if isPrefix(head, of: r) && head.count >= cursor && head.count <= q.lowerBound { start = head.count }
            if isPrefix(upto, of: r) && upto.count >= q.upperBound { end = upto.count }
            return start..<end
        }
        // No content to anchor on (a tool call): what of the turn follows the header, or else
        // what follows the prompt's ending (the longest tail of H found in U) found whole in R.
        let n = commonPrefix(turn[...], r[p...])
        if n > 0 { return p..<(p + n) }
        if let e = endOfLongestTail(of: head, in: upto, after: a), e < upto.count,
           let found = find(upto[e...], in: r, from: cursor, where: { _ in true }) {
            return found
        }
        return nil
    }

    /// The length of the longest suffix of `a` that is a prefix of `b`.
    static func longestSuffixThatIsPrefix(of a: ArraySlice<UInt8>, prefixOf b: ArraySlice<UInt8>) -> Int {
        var n = min(a.count, b.count)
        while n > 0 {
            if a.suffix(n).elementsEqual(b.prefix(n)) { return n }
            n -= 1
        }
        return 0
    }

    /// Whether `r` is a whole run of `data` (its bytes start and end a run: the bytes around it
    /// are template text, or the text's ends).
    static func isWholeRun(_ r: Range<Int>, _ data: [Range<Int>]) -> Bool {
        let before = r.lowerBound - 1, after = r.upperBound
        let startsRun = before < 0 || !data.contains { $0.contains(before) } || data.contains { $0.lowerBound == r.lowerBound }
        let endsRun = !data.contains { $0.contains(after) } || data.contains { $0.upperBound == r.upperBound }
        return startsRun && endsRun
    }

    /// Where, in `u`, the longest tail of `h` (at least 4 bytes) that occurs in `u` ending after
    /// `after` ends — binary search on the length, as a tail that occurs has all its shorter
    /// tails occurring too. O(n log n).
    static func endOfLongestTail(of h: [UInt8], in u: [UInt8], after: Int) -> Int? {
        func occurrence(_ length: Int) -> Int? {
            guard length <= h.count else { return nil }
            let tail = h[(h.count - length)...]
            var at = 0
            var last: Int?
            while let f = find(tail, in: u, from: at, where: { _ in true }) {
                if f.upperBound > after { last = f.upperBound }
                at = f.lowerBound + 1
            }
            return last
        }
        guard var best = occurrence(4) else { return nil }
        var lo = 4, hi = h.count
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if let e = occurrence(mid) { best = e; lo = mid } else { hi = mid - 1 }
        }
        return best
    }

    /// The text that identifies a message in the render: its content string, or the first
    /// text part of a list of parts — without surrounding white space, which templates often trim.
    static func anchorText(_ message: JSONValue) -> [UInt8]? {
        var text: String?
        switch message["content"] {
        case .string(let s)?: text = s
        case .array(let parts)?: text = parts.lazy.compactMap { $0["text"]?.stringValue }.first { !$0.isEmpty }
        default: text = nil
        }
        guard let text else { return nil }
        let bytes = Array(text.utf8)
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return nil }
        return Array(bytes[first...last])
    }

    // MARK: Byte helpers

    static func isPrefix(_ a: [UInt8], of b: [UInt8]) -> Bool { a.count <= b.count && b.starts(with: a) }

    static func commonPrefix(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
        var n = 0
        var i = a.startIndex, j = b.startIndex
        while i < a.endIndex && j < b.endIndex && a[i] == b[j] { n += 1; i += 1; j += 1 }
        return n
    }

    static func commonSuffix(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
        var n = 0
        var i = a.endIndex, j = b.endIndex
        while i > a.startIndex && j > b.startIndex && a[i - 1] == b[j - 1] { n += 1; i -= 1; j -= 1 }
        return n
    }

    /// The first occurrence of `needle` in `haystack[from...]` accepted by `accept`.
    /// - Complexity: O(n·m) worst case; needles are short template fragments or one message.
    static func find(_ needle: ArraySlice<UInt8>, in haystack: [UInt8], from: Int, where accept: (Range<Int>) -> Bool) -> Range<Int>? {
        guard let first = needle.first, needle.count <= haystack.count else { return nil }
        var i = from
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) {
                let found = i..<(i + needle.count)
                if accept(found) { return found }
            }
            i += 1
        }
        return nil
    }

    static func overlaps(_ r: Range<Int>, _ ranges: [Range<Int>]) -> Bool { ranges.contains { $0.overlaps(r) } }

    /// Whether every byte of `r` lies in one of `ranges` (sorted, disjoint).
    static func isCovered(_ r: Range<Int>, _ ranges: [Range<Int>]) -> Bool {
        var at = r.lowerBound
        for x in ranges where x.upperBound > at {
            if x.lowerBound > at { return false }
            at = x.upperBound
            if at >= r.upperBound { return true }
        }
        return at >= r.upperBound
    }
}

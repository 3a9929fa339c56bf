// Stages 2–5 of the recipe for one row: parse → render the template → encode the segments →
// mask → truncate. Runs on worker threads; each thread owns one `ExampleEncoder`.

import Tokenizer

/// How the prompt and completion become ids and labels.
public struct EncodingSettings: Sendable {
    /// Encode prompt + completion as one text and mask by byte offsets (else separately).
    public var joint = false
    /// Keep the prompt's labels (the course's `labels = input_ids`).
    public var trainOnPrompt = false
    /// Appended to the completion (and labelled); nil for none.
    public var eosId: UInt32?
    /// Put once before the prompt (the BOS transformers adds to a plain text); kept by
    /// truncation, as transformers keeps special tokens; labelled as the prompt is.
    public var bosIds: [UInt32] = []
    /// Count the examples whose ids would differ in the other mode (costs a second encode).
    public var compareModes = true
    public var maxLength: Int?
    public var truncation: Truncation = .left

    public init() {}
}

/// What `--truncation` does with examples longer than `--max-length`.
public enum Truncation: String, Sendable, CaseIterable {
    /// Keep the last tokens (the course's `truncation_side = "left"`).
    case left
    /// Keep the first tokens.
    case right
    /// Leave the example out.
    case drop
}

/// One example after encoding, masking and truncation.
struct EncodedRow {
    /// In the encoding thread's current block (RowIds).
    var ids: RowIds
    /// The positions trained on (after truncation); every other label is -100.
    var labels: LabelRanges
    /// Tokens of the prompt and of the completion (with EOS), before truncation.
    var promptTokens: Int
    var completionTokens: Int
    var truncatedTokens: Int
    var differsInOtherMode: Bool
    /// Set for chat rows.
    var chat: ChatRowFacts? = nil
}

/// The outcome for one input line.
enum RowOutcome {
    case blank
    case invalid(RowProblem)
    case tooLong(tokens: Int)
    case noLabels(truncatedTokens: Int)
    case ok(EncodedRow)
}

final class ExampleEncoder {
    let tokenizer: Tokenizer
    let template: TemplateChoice
    let settings: EncodingSettings
    let context = EncodingContext()
    private var scratch: [UInt32] = []
    private var scratch2: [UInt32] = []
    /// The ids of the row being encoded (`encodeSegments`, `processDocument`), kept row to row:
    /// `spareIds` takes them back after `finish` copies them into `blocks`.
    var spareIds: [UInt32] = []
    /// Where the rows' ids go (RowIds).
    private let blocks = IdBlocks()
    /// The fields of the row being read, and its rendered text (`render`), reused row to row.
    private let fields: RowFields
    private let rendered = TextBuffer(capacity: 4096)
    /// Where the JSON reader decodes a row's strings with escapes (rows up to 1 MB).
    private var escapes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 4096)
    /// Threads a long text's parts may be encoded on at once (LongText), and a context for
    /// each, made when the first long text comes. With `idle`, only this thread and the
    /// pipeline's workers waiting for rows are used, so a long row does not crowd the others.
    let threads: Int
    private let idle: AtomicCounter?
    private lazy var contexts = [context] + (1..<max(1, threads)).map { _ in EncodingContext() }

    init(tokenizer: Tokenizer, template: TemplateChoice, settings: EncodingSettings, threads: Int = 1, idle: AtomicCounter? = nil) {
        self.tokenizer = tokenizer
        self.template = template
        self.settings = settings
        fields = template.fieldPlan?.rowFields() ?? RowFields(names: [])
        self.threads = threads
        self.idle = idle
    }

    deinit { escapes.deallocate() }

    /// The contexts to encode a text of `count` bytes in parts with (LongText), this thread's
    /// first; nil when the text is short or no other thread is free.
    func longTextContexts(_ count: Int) -> ArraySlice<EncodingContext>? {
        guard threads > 1, count > 2 * LongText.partBytes else { return nil }
        let free = contexts.prefix(idle.map { 1 + $0.value } ?? threads)
        return free.count > 1 ? free : nil
    }

    /// Parses a JSONL line into its members (nil for a blank line): chat rows, whose template
    /// reads the whole value.
    func parse(_ line: UnsafeBufferPointer<UInt8>) -> Result<[(String, JSONValue)], RowProblem>? {
        if JSON.isBlankLine(line) { return nil }
        let value: JSONValue
        do { value = try JSON.parse(line) } catch {
            return .failure(.malformed(error.message, column: error.offset + 1))
        }
        guard case .object(let members) = value else { return .failure(.notAnObject(value.typeDescription)) }
        return .success(members)
    }

    /// Reads an instruction row's fields and renders its template into `rendered` (the
    /// prompt's bytes, then the completion's): returns the prompt's length in bytes. The row's
    /// strings go from the JSON text into reused buffers, never into Strings.
    func render(_ line: UnsafeBufferPointer<UInt8>) -> Result<Int, RowProblem> {
        if escapes.count < line.count && line.count <= 1 << 20 {
            escapes.deallocate()
            escapes = .allocate(capacity: max(line.count, 2 * escapes.count))
        }
        guard let result = template.fieldPlan?.render(line: line, fields: fields, escapes: escapes, into: rendered) else {
            preconditionFailure("chat rows are rendered by processChat")
        }
        return result
    }

    @inline(__always)
    private func encode(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt32]) {
        // An empty segment (the `text` template's prompt) has no ids with any tokenizer, as in
        // HF; the call through the encoder's layers cost ~300 instructions a row.
        if bytes.isEmpty { return }
        if let contexts = longTextContexts(bytes.count) {
            LongText.encode(bytes, tokenizer: tokenizer, contexts: contexts, into: &out)
        } else {
            // Valid: the JSON reader checked every byte of the fields, and the templates are Strings.
            tokenizer.encode(validUTF8: bytes, into: &out, context: context)
        }
    }

    /// Encodes the rendered example (`rendered`, the prompt's `promptBytes` first) into ids and
    /// the number of prompt tokens.
    func encodeSegments(promptBytes: Int) -> (ids: [UInt32], promptTokens: Int, differs: Bool) {
        let all = rendered.buffer
        let prompt = UnsafeBufferPointer(rebasing: all[..<promptBytes])
        let completion = UnsafeBufferPointer(rebasing: all[promptBytes...])
        var ids = takeSpareIds()
        var promptTokens = 0
        var differs = false
        if settings.joint {
            encode(all, into: &ids)
            // A token holding any completion byte is completion: count the tokens that end
            // at or before the prompt's last byte (offsets in normalized text).
            let normalizedPrompt = tokenizer.normalizedByteCount(utf8: prompt)
            var end = 0
            for id in ids {
                end += tokenizer.tokenByteCount(id)
                if end > normalizedPrompt { break }
                promptTokens += 1
            }
            if settings.compareModes && !prompt.isEmpty && !tokenizer.splitsCleanly(prompt: prompt, completion: completion) {
                scratch.removeAll(keepingCapacity: true)
                encode(prompt, into: &scratch)
                encode(completion, into: &scratch)
                differs = scratch != ids
            }
        } else {
            encode(prompt, into: &ids)
            promptTokens = ids.count
            encode(completion, into: &ids)
            if settings.compareModes && !prompt.isEmpty && !tokenizer.splitsCleanly(prompt: prompt, completion: completion) {
                scratch2.removeAll(keepingCapacity: true)
                encode(all, into: &scratch2)
                differs = scratch2 != ids
            }
        }
        if let eos = settings.eosId { ids.append(eos) }
        if !settings.bosIds.isEmpty {
            ids.insert(contentsOf: settings.bosIds, at: 0)
            // BOS belongs to the prompt, except in plain language modelling (nothing masked).
            if !template.isPlainText { promptTokens += settings.bosIds.count }
        }
        return (ids, promptTokens, differs)
    }

    /// A row read: an instruction row, rendered (`rendered`, the prompt's bytes first), or a
    /// chat row's members.
    enum Row {
        case text(promptBytes: Int)
        case chat([(String, JSONValue)], ChatSetup)
    }

    /// Reads a JSONL line (nil for a blank one), or says what is wrong with it.
    func read(_ line: UnsafeBufferPointer<UInt8>) -> Result<Row, RowProblem>? {
        if let chat = template.chat {
            return parse(line).map { $0.map { .chat($0, chat) } }
        }
        if JSON.isBlankLine(line) { return nil }
        return render(line).map { .text(promptBytes: $0) }
    }

    /// Parse, render and encode only: the untruncated ids and the prompt's token count.
    func measure(_ line: UnsafeBufferPointer<UInt8>) -> Result<(tokens: Int, promptTokens: Int, bytes: Int), RowProblem>? {
        switch read(line) {
        case nil: return nil
        case .failure(let p)?: return .failure(p)
        case .success(.chat(let members, let chat))?:
            switch chatExample(members, chat) {
            case .failure(let p): return .failure(p)
            case .success(let e):
                let tokens = e.ids.count + (settings.eosId != nil ? 1 : 0)
                let labelled = e.labels.count + (settings.eosId != nil ? 1 : 0)
                return .success((tokens, tokens - labelled, e.text.count))
            }
        case .success(.text(let promptBytes))?:
            let (ids, promptTokens, _) = encodeSegments(promptBytes: promptBytes)
            defer { spareIds = ids }
            return .success((ids.count, promptTokens, rendered.count))
        }
    }

    /// The whole per-row stage.
    func process(_ line: UnsafeBufferPointer<UInt8>) -> RowOutcome {
        switch read(line) {
        case nil: return .blank
        case .failure(let p)?: return .invalid(p)
        case .success(.chat(let members, let chat))?: return processChat(members, chat)
        case .success(.text(let promptBytes))?:
            let (ids, promptTokens, differs) = encodeSegments(promptBytes: promptBytes)
            defer { spareIds = ids }
            return finish(ids: ids, labels: .suffix(from: promptTokens, count: ids.count), differs: differs)
        }
    }

    /// An empty array with the capacity of the last row's ids (no allocation a row); after a
    /// row of more than 256 K ids a new one, so a long document's memory is not kept.
    func takeSpareIds() -> [UInt32] {
        var ids: [UInt32] = []
        swap(&ids, &spareIds)
        if ids.capacity > 1 << 18 { return [] }
        ids.removeAll(keepingCapacity: true)
        return ids
    }

    /// Masking and truncation of an example whose untruncated tokens `ids` are trained on at
    /// `labels` (before `--train-on-prompt`).
    func finish(ids: [UInt32], labels: LabelRanges, differs: Bool) -> RowOutcome {
        let plan = TruncationPlan(count: ids.count, labels: labels, settings: settings)
        switch plan.outcome {
        case .drop: return .tooLong(tokens: ids.count)
        case .noLabels: return .noLabels(truncatedTokens: plan.cut)
        case .keep:
            let kept = ids.withUnsafeBufferPointer { all in
                blocks.store(UnsafeBufferPointer(rebasing: all[0..<plan.fixed]), UnsafeBufferPointer(rebasing: all[plan.kept]))
            }
            let labelled = labels.count
            return .ok(EncodedRow(ids: kept, labels: plan.labels, promptTokens: ids.count - labelled,
                                  completionTokens: labelled, truncatedTokens: plan.cut, differsInOtherMode: differs))
        }
    }
}

/// What masking and truncation do to an example of `count` tokens trained on at `labels` —
/// shared by `build` (which applies it) and `lengths` (which reports it). The BOS tokens in
/// front (`settings.bosIds`) are always kept; truncation cuts the rest.
struct TruncationPlan {
    enum Outcome { case keep, drop, noLabels }
    var outcome: Outcome = .keep
    /// Leading tokens always kept (BOS).
    var fixed: Int
    /// The other token positions kept.
    var kept: Range<Int>
    /// The labelled positions of the kept tokens, counted from the first kept token.
    var labels: LabelRanges
    /// Tokens removed by truncation.
    var cut = 0

    init(count n: Int, labels all: LabelRanges, settings: borrowing EncodingSettings) {
        fixed = min(settings.bosIds.count, n)
        kept = fixed..<n
        let labels = settings.trainOnPrompt ? .suffix(from: 0, count: n) : all
        if let max = settings.maxLength, n > max {
            cut = n - max
            let budget = Swift.max(0, max - fixed)
            switch settings.truncation {
            case .drop:
                self.labels = .none
                outcome = .drop
                return
            case .right:
                kept = fixed..<(fixed + budget)
            case .left:
                kept = (n - budget)..<n
            }
            cut = n - fixed - kept.count
        }
        // Nothing cut and no BOS (most rows): the labels as they are, no arrays made.
        if fixed == 0 && kept == 0..<n && !labels.isEmpty && labels.range(0).lowerBound >= 0
            && labels.range(labels.rangeCount - 1).upperBound <= n {
            self.labels = labels
            return
        }
        // The labelled positions among those kept: BOS's, then the rest's after it.
        let shift = fixed
        let tail = labels.restricted(to: kept).ranges.map { ($0.lowerBound + shift)..<($0.upperBound + shift) }
        self.labels = LabelRanges(labels.restricted(to: 0..<fixed).ranges + tail)
        if self.labels.isEmpty { outcome = .noLabels }
    }

    /// An instruction example: the first `promptTokens` of `count` are the prompt.
    init(count: Int, promptTokens: Int, settings: borrowing EncodingSettings) {
        self.init(count: count, labels: .suffix(from: promptTokens, count: count), settings: settings)
    }
}

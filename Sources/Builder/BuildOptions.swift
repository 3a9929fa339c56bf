// What `finetok build` takes and gives: its options (template, padding, output formats,
// sharding...), its report and progress, and its errors. The recipe is in Build.swift.

import Foundation
import Tokenizer

/// Which template to use.
public enum TemplateSpec: Sendable {
    /// Detect from the first row's fields (and say which).
    case detect
    case preset(TemplatePreset)
    /// A custom template; `name` is shown in reports (e.g. the file it came from).
    case custom(Template, name: String)
}

public enum Padding: String, Sendable, CaseIterable {
    case none
    case longest
    case maxLength = "max-length"
}

public enum PaddingSide: String, Sendable, CaseIterable {
    case right, left
}

public enum OutputFormat: String, Sendable, CaseIterable {
    case jsonl, npy, safetensors
    /// Megatron-Core's indexed dataset: `{split}.bin` + `{split}.idx` (MegatronWriter).
    case megatron
    /// One flat `{split}.bin` of ids + `{split}.bin.json` (TokenStreamWriter).
    case tokens

    /// Documents rather than rows: ids only, no labels or padding.
    var isTokenStream: Bool { self == .megatron || self == .tokens }
}

/// Everything `finetok build` can be told.
public struct BuildOptions: Sendable {
    public var template: TemplateSpec = .detect
    /// For chat rows (`messages` / `conversations`).
    public var chat = ChatOptions()
    public var encoding = EncodingSettings()
    /// `--eos-token`: a token other than the tokenizer's end-of-text; nil = the tokenizer's.
    public var eosToken: String?
    /// `--no-eos`.
    public var appendEOS = true
    /// Put the BOS that the tokenizer adds to a plain text before each example (`--no-bos`: off).
    public var addBOS = true
    public var padding: Padding = .none
    public var padToMultipleOf: Int?
    public var paddingSide: PaddingSide = .right
    /// Default: the tokenizer's pad token, else EOS.
    public var padId: UInt32?
    public var testSize: Double = 0.1
    public var seed: UInt64 = 123
    public var formats: [OutputFormat] = [.jsonl]
    public var dtype: OutputDType = .int32
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    public var skipInvalid = false
    public var overwrite = false
    /// Rows per parallel batch.
    public var batchSize = 1024
    /// `--pack N`: pack each split's examples into rows of at most N tokens (Packing).
    public var pack: Int?
    /// `--packing`.
    public var packing: PackingStrategy = .bfd
    /// `--docs`: how `.txt` inputs are cut into documents.
    public var documents: DocumentSplit = .blankLines
    /// `--shard K/N`: encode only this shard's part of the input, into a shard folder (Shard).
    public var shard: ShardSpec?
    /// Where the tokenizer came from, recorded in shard folders so `finetok merge` can load it.
    public var tokenizerSource: TokenizerSource?
    /// Off: every build goes through the spill file, even one DirectOutput could write during
    /// pass 1 (the tests compare the two; not a user option).
    var writeDuringPass1 = true

    public init() {}
}

/// A skipped row, for the report.
public struct SkippedRow: Sendable, Equatable {
    public var path: String
    public var line: Int
    public var reason: String
}

/// What a build did.
public struct BuildReport: Sendable {
    public var templateName = ""
    public var templateDetected = false
    /// The rows are chat conversations; `templateName` names the chat template (a file, a
    /// bundled name, `vocabulary` or `vocabulary:NAME`).
    public var chat = false
    public var rowsRead = 0
    public var blankLines = 0
    public var skipped: [SkippedRow] = []
    public var skippedCount = 0
    public var truncated = 0
    public var tokensCut = 0
    public var droppedTooLong = 0
    public var droppedNoLabels = 0
    public var boundaryDifferences = 0
    /// Chat rows kept, by the rule that found their assistant spans (generation, prefix,
    /// anchored, all).
    public var chatSpanRules: [String: Int] = [:]
    /// Chat rows whose message data holds strings the tokenizer matches as added tokens.
    public var chatSpecialsInData = 0
    public var trainRows = 0
    public var testRows = 0
    /// The padded width, or nil when rows keep their own lengths.
    public var width: Int?
    public var files: [String] = []
    public var lengths: LengthSummary?
    public var eosId: UInt32?
    public var padId: UInt32?
    /// The BOS ids put before each example (empty when none).
    public var bosIds: [UInt32] = []
    public var inputBytes = 0
    /// Per split, with `--pack`.
    public var packing: [PackedSplit] = []
    /// Set by a `--shard` build: its part of the input (global byte offsets over all inputs).
    public var shardRange: Range<Int>?
}

/// Progress of pass 1, for a status line.
/// Progress of a long job, for a status line.
public struct BuildProgress: Sendable {
    public var rows: Int
    public var bytes: Int
    public var totalBytes: Int
    /// Set while writing: the split being written, and how many of its rows are done.
    public var writing: (split: String, done: Int, total: Int)?

    public init(rows: Int, bytes: Int, totalBytes: Int, writing: (split: String, done: Int, total: Int)? = nil) {
        self.rows = rows
        self.bytes = bytes
        self.totalBytes = totalBytes
        self.writing = writing
    }
}

/// A build error: a bad row or option (input) or a failed write (output).
public enum BuildError: Error, Sendable, CustomStringConvertible {
    case usage(String)
    case input(String)
    case output(String)

    public var description: String {
        switch self {
        case .usage(let m), .input(let m), .output(let m): return m
        }
    }
}

// manifest.json: the exact settings, the tokenizer's identity, counts and length statistics —
// enough to rebuild the same files or to tell two builds apart. Deterministic: no timestamps, no
// thread count, so identical builds give identical manifests.

import Foundation
import Tokenizer

/// A JSON document built in order (objects keep their key order), written with 2-space indents.
public indirect enum JSONOut {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case array([JSONOut])
    case object([(String, JSONOut)])

    public func render(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1), end = String(repeating: "  ", count: indent)
        switch self {
        case .string(let s): return jsonQuote(s)
        case .int(let i): return String(i)
        case .double(let d):
            // Shortest round-trip form, as Python's repr: 175.03999999999996, 86.0.
            return d.isFinite ? "\(d)" : "null"
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items):
            if items.isEmpty { return "[]" }
            if items.allSatisfy({ if case .int = $0 { return true }; return false }) {
                return "[" + items.map { $0.render() }.joined(separator: ", ") + "]"
            }
            return "[\n" + items.map { pad + $0.render(indent: indent + 1) }.joined(separator: ",\n") + "\n\(end)]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            return "{\n" + members.map { pad + jsonQuote($0.0) + ": " + $0.1.render(indent: indent + 1) }.joined(separator: ",\n") + "\n\(end)}"
        }
    }
}

extension LengthSummary {
    var json: JSONOut {
        .object([("count", .int(count)), ("min", .int(min)), ("max", .int(max)), ("mean", .double(mean)),
                 ("p50", .double(p50)), ("p90", .double(p90)), ("p95", .double(p95)), ("p99", .double(p99)),
                 ("total", .int(total))])
    }
}

enum Manifest {
    /// SHA-256 of a tokenizer file; one read through a pipe is hashed from the bytes kept when it
    /// was loaded (a pipe cannot be read twice).
    static func fileHash(_ path: String) -> String {
        FileHashCache.shared.hash(path) {
            let bytes: [UInt8]
            if let kept = InputFiles.rememberedContents(of: path) {
                bytes = kept
            } else if InputFiles.isRegularFile(path), let read = try? InputFiles.readAll(path) {
                bytes = read
            } else {
                return ""
            }
            var h = SHA256()
            h.update(bytes)
            return h.hexDigest()
        }
    }

    static func json(report r: BuildReport, options o: BuildOptions, settings s: EncodingSettings, template: TemplateChoice,
                     tokenizer: Tokenizer, inputs: [(String, String, Int)]) -> String {
        func optInt(_ v: Int?) -> JSONOut { v.map { .int($0) } ?? .null }
        func optId(_ v: UInt32?) -> JSONOut { v.map { .int(Int($0)) } ?? .null }
        var members: [(String, JSONOut)] = [
            ("finetok_version", .string(finetokVersion)),
            ("inputs", .array(inputs.map { .object([("path", .string($0.0)), ("sha256", .string($0.1)), ("rows_kept", .int($0.2))]) })),
            ("tokenizer", .object([
                ("format", .string(tokenizer.format.rawValue)),
                ("files", .array(tokenizer.paths.map { .object([("path", .string($0)), ("sha256", .string(fileHash($0)))]) })),
                ("vocab_size", .int(tokenizer.vocabularySize)),
                ("bos_ids", .array(r.bosIds.map { .int(Int($0)) })),
                ("eos_id", optId(r.eosId)),
                ("pad_id", optId(r.padId)),
            ])),
            ("template", .object([
                ("name", .string(r.templateName)),
                ("detected", .bool(r.templateDetected)),
                ("source", .array(template.sources.map { .string($0) })),
            ])),
            ("settings", .object([
                ("mode", .string(s.joint ? "joint" : "separate")),
                ("train_on_prompt", .bool(s.trainOnPrompt)),
                ("eos", .bool(s.eosId != nil)),
                ("max_length", optInt(s.maxLength)),
                ("truncation", .string(s.truncation.rawValue)),
                ("padding", .string(o.padding.rawValue)),
                ("pad_to_multiple_of", optInt(o.padToMultipleOf)),
                ("padding_side", .string(o.paddingSide.rawValue)),
                ("test_size", .double(o.testSize)),
                ("seed", .int(Int(o.seed))),
                ("formats", .array(o.formats.map { .string($0.rawValue) })),
                ("dtype", .string(o.dtype.rawValue)),
                ("skip_invalid", .bool(o.skipInvalid)),
                ("documents", .string(o.documents.rawValue)),
                ("pack", optInt(o.pack)),
                ("packing", o.pack == nil ? .null : .string(o.packing.rawValue)),
            ])),
            ("splits", .object([
                ("train", .object([("rows", .int(r.trainRows))])),
                ("test", .object([("rows", .int(r.testRows))])),
            ])),
            ("width", optInt(r.width)),
            ("packed", r.packing.isEmpty ? .null : .object(r.packing.map { ($0.split, $0.json) })),
            ("counts", .object([
                ("rows_read", .int(r.rowsRead)),
                ("blank_lines", .int(r.blankLines)),
                ("skipped_invalid", .int(r.skippedCount)),
                ("truncated", .int(r.truncated)),
                ("tokens_cut", .int(r.tokensCut)),
                ("dropped_too_long", .int(r.droppedTooLong)),
                ("dropped_no_labels", .int(r.droppedNoLabels)),
                ("boundary_differences", s.compareModes ? .int(r.boundaryDifferences) : .null),
            ])),
            ("lengths", r.lengths?.json ?? .null),
            ("skipped_rows", .array(r.skipped.map { .object([("path", .string($0.path)), ("line", .int($0.line)), ("reason", .string($0.reason))]) })),
            ("files", .array(r.files.map { .string($0) })),
        ]
        if let chat = template.chat {
            // After "template".
            let at = (members.firstIndex { $0.0 == "template" } ?? 0) + 1
            members.insert(("chat", chatJSON(chat, report: r)), at: at)
        }
        return JSONOut.object(members).render() + "\n"
    }
}

extension Manifest {
    /// The chat settings: what a rebuild needs (the template's digest, its variables, the clock)
    /// and how the rows' spans were found.
    static func chatJSON(_ c: ChatSetup, report r: BuildReport) -> JSONOut {
        var sha = SHA256()
        sha.update(Array(c.source.utf8))
        return .object([
            ("template", .string(c.name)),
            ("template_sha256", .string(sha.hexDigest())),
            ("generation_blocks", .bool(c.template.usesGenerationBlocks)),
            ("variables", .object(c.variables.sorted { $0.key < $1.key }.map { ($0.key, JSONOut($0.value)) })),
            ("train_on", .string(c.trainOn.rawValue)),
            ("content_specials", .string(c.contentSpecials.rawValue)),
            ("source_date_epoch", c.sourceDateEpoch.map { .int(Int($0)) } ?? .null),
            ("span_rules", .object(r.chatSpanRules.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
            ("rows_with_specials_in_data", .int(r.chatSpecialsInData)),
        ])
    }
}

extension JSONOut {
    /// A parsed JSON value, written back.
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case let .number(d, isInteger): self = isInteger && abs(d) < 9.0e15 ? .int(Int(d)) : .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map { JSONOut($0) })
        case .object(let o): self = .object(o.map { ($0.0, JSONOut($0.1)) })
        }
    }
}

public let finetokVersion = "0.1.0"

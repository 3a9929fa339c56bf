// Loading: which file is which, and the GPT-2 vocab.json + merges.txt format.

import Foundation

/// Options that change how a tokenizer file is interpreted.
public struct LoadOptions: Sendable {
    /// tiktoken encoding name (`r50k_base`, `p50k_base`, `cl100k_base`, `o200k_base`, `qwen2`):
    /// the split pattern and special tokens of a rank file. Inferred from the file name if nil.
    public var encoding: String?
    /// Replaces the split pattern of any format.
    public var pattern: SplitPattern?
    /// Match special-token strings in the text (tiktoken's `allowed_special="all"`) for formats
    /// that otherwise treat them as ordinary text (vocab.json + merges.txt, tiktoken).
    public var allowSpecial: Bool

    public init(encoding: String? = nil, pattern: SplitPattern? = nil, allowSpecial: Bool = false) {
        self.encoding = encoding
        self.pattern = pattern
        self.allowSpecial = allowSpecial
    }
}

extension Tokenizer {
    /// Loads a tokenizer from a folder or file:
    /// - a folder holding `tokenizer.json`, or `vocab.json` + `merges.txt`, or one `*.tiktoken` file;
    /// - a `tokenizer.json` (any `.json` file other than `vocab.json`);
    /// - `vocab.json` or `merges.txt` (the other is taken from the same folder);
    /// - any other file is read as a tiktoken rank file.
    /// - Throws: `TokenizerError` naming the file and, where it applies, the line or JSON path.
    public static func load(_ path: String, options: LoadOptions = LoadOptions()) throws(TokenizerError) -> Tokenizer {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
            throw .unreadable(path: path, reason: "no such file or folder")
        }
        if isDir.boolValue {
            let dir = URL(fileURLWithPath: path)
            let tj = dir.appendingPathComponent("tokenizer.json").path
            if fm.fileExists(atPath: tj) { return try loadTokenizerJSON(tj, options: options) }
            let vj = dir.appendingPathComponent("vocab.json").path
            let mt = dir.appendingPathComponent("merges.txt").path
            if fm.fileExists(atPath: vj) && fm.fileExists(atPath: mt) {
                return try loadVocabMerges(vocab: vj, merges: mt, options: options)
            }
            let rankFiles = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".tiktoken") }.sorted()
            if rankFiles.count == 1 {
                return try loadTiktoken(dir.appendingPathComponent(rankFiles[0]).path, options: options)
            }
            throw .unknownFormat(path: path, message: rankFiles.count > 1
                ? "the folder holds several .tiktoken files (\(rankFiles.joined(separator: ", "))); name one"
                : "the folder holds no tokenizer.json, vocab.json + merges.txt, or .tiktoken file")
        }
        let name = (path as NSString).lastPathComponent
        let dir = (path as NSString).deletingLastPathComponent
        if name == "vocab.json" || name == "merges.txt" {
            let other = (dir as NSString).appendingPathComponent(name == "vocab.json" ? "merges.txt" : "vocab.json")
            guard fm.fileExists(atPath: other) else {
                throw .unknownFormat(path: path, message: "\(name) needs \((other as NSString).lastPathComponent) beside it in the same folder")
            }
            return name == "vocab.json"
                ? try loadVocabMerges(vocab: path, merges: other, options: options)
                : try loadVocabMerges(vocab: other, merges: path, options: options)
        }
        if name.hasSuffix(".json") { return try loadTokenizerJSON(path, options: options) }
        return try loadTiktoken(path, options: options)
    }

    static func readFile(_ path: String) throws(TokenizerError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied or not a regular file" : "no such file")
        }
        return [UInt8](data)
    }

    static func parseJSON(_ bytes: [UInt8], path: String) throws(TokenizerError) -> JSONValue {
        do {
            return try JSON.parse(bytes)
        } catch {
            let (line, col) = bytes.withUnsafeBufferPointer { lineAndColumn(of: error.offset, in: $0) }
            throw .malformedJSON(path: path, line: line, column: col, message: error.message)
        }
    }

    /// Token strings of a byte-level vocabulary → raw bytes (characters outside the byte
    /// alphabet keep their own UTF-8, as HF's decoder does).
    static func tokenBytes(_ s: String) -> [UInt8] { ByteLevel.decode(s) ?? Array(s.utf8) }

    /// Reads a `{"token": id, ...}` object into id → bytes, checking ids.
    static func readVocab(_ vocab: JSONValue, path: String, jsonPath: String) throws(TokenizerError)
        -> (tokens: [[UInt8]?], ids: [String: UInt32]) {
        guard case .object(let members) = vocab else {
            throw .invalidContent(path: path, location: jsonPath, message: "expected an object mapping token strings to ids, found \(vocab.typeDescription)")
        }
        var ids: [String: UInt32] = [:]
        ids.reserveCapacity(members.count)
        var maxId = -1
        for (token, value) in members {
            guard let id = value.intValue, id >= 0, id < Int(UInt32.max) else {
                throw .invalidContent(path: path, location: jsonPath, message: "token \(JSON.quoted(token)) has id \(value.typeDescription == "a number" ? "\(value)" : value.typeDescription); ids must be non-negative integers")
            }
            ids[token] = UInt32(id)   // a repeated key: the last wins, as Python's json
            maxId = max(maxId, id)
        }
        var tokens = [[UInt8]?](repeating: nil, count: maxId + 1)
        var owner = [String?](repeating: nil, count: maxId + 1)
        for (token, id) in ids {
            if let other = owner[Int(id)] {
                let (a, b) = other < token ? (other, token) : (token, other)
                throw .invalidContent(path: path, location: jsonPath, message: "id \(id) is given to two tokens, \(JSON.quoted(a)) and \(JSON.quoted(b)); every token needs its own id")
            }
            owner[Int(id)] = token
            tokens[Int(id)] = tokenBytes(token)
        }
        return (tokens, ids)
    }

    /// GPT-2 style `vocab.json` + `merges.txt`, as HF `BPE.from_file` with a ByteLevel
    /// pre-tokenizer reads them: merge rank = line order (after an optional `#version` line).
    static func loadVocabMerges(vocab: String, merges: String, options: LoadOptions) throws(TokenizerError) -> Tokenizer {
        let vocabJSON = try parseJSON(try readFile(vocab), path: vocab)
        let (tokens, ids) = try readVocab(vocabJSON, path: vocab, jsonPath: "")
        let mergeBytes = try readFile(merges)
        guard let text = String(validating: mergeBytes, as: UTF8.self) else {
            throw .invalidContent(path: merges, location: "", message: "not valid UTF-8 text")
        }
        let pairs = PairTable(capacity: tokens.count)
        var rank: UInt32 = 0
        var lineNumber = 0
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, raw) in lines.enumerated() {
            lineNumber += 1
            var line = raw
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.hasPrefix("#version") { continue }
            if line.isEmpty && index == lines.count - 1 { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw .invalidContent(path: merges, location: "\(lineNumber)", message: "expected two tokens separated by one space, found \(JSON.quoted(String(line)))")
            }
            try addMerge(String(parts[0]), String(parts[1]), rank: rank, ids: ids, pairs: pairs, path: merges, location: "\(lineNumber)")
            rank += 1
        }
        var model = BPEModel(tokens: tokens, pairs: pairs, wholePieceFirst: false)
        model.markSelfMergingTokens()
        // The <|...|> entries of the vocabulary are its special tokens (GPT-2: <|endoftext|>).
        let specials = ids.filter { $0.key.hasPrefix("<|") && $0.key.hasSuffix("|>") && $0.key.count > 4 }
            .map { AddedToken(id: $0.value, content: $0.key, special: true) }
            .sorted { $0.id < $1.id }
        let pattern = options.pattern ?? .gpt2
        return Tokenizer(format: .vocabMerges, paths: [vocab, merges], model: model, normalizer: .none,
                         steps: [.byteLevel(addPrefixSpace: false, pattern: pattern)],
                         addedTokens: specials, matchesAddedTokens: options.allowSpecial)
    }

    static func addMerge(_ a: String, _ b: String, rank: UInt32, ids: [String: UInt32], pairs: PairTable,
                         path: String, location: String) throws(TokenizerError) {
        guard let left = ids[a] else {
            throw .invalidContent(path: path, location: location, message: "merge \(JSON.quoted(a + " " + b)) names \(JSON.quoted(a)), which is not in the vocabulary")
        }
        guard let right = ids[b] else {
            throw .invalidContent(path: path, location: location, message: "merge \(JSON.quoted(a + " " + b)) names \(JSON.quoted(b)), which is not in the vocabulary")
        }
        guard let merged = ids[a + b] else {
            throw .invalidContent(path: path, location: location, message: "merge \(JSON.quoted(a + " " + b)) makes \(JSON.quoted(a + b)), which is not in the vocabulary")
        }
        pairs.set(left, right, rank: rank, id: merged)
    }
}

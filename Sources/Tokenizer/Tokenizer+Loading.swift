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
    /// - a model folder holding `tokenizer.json`, else `tokenizer.model`, else `vocab.json` +
    ///   `merges.txt`, else one `*.tiktoken` file — with its `tokenizer_config.json` /
    ///   `special_tokens_map.json` / `chat_template.jinja` when present (`config`);
    /// - a `tokenizer.json` (any `.json` file other than `vocab.json`);
    /// - a SentencePiece `*.model` file;
    /// - `vocab.json` or `merges.txt` (the other is taken from the same folder);
    /// - any other file is read as a tiktoken rank file.
    /// - Throws: `TokenizerError` naming the file and, where it applies, the line, JSON path or
    ///   byte offset.
    public static func load(_ path: String, options: LoadOptions = LoadOptions()) throws(TokenizerError) -> Tokenizer {
        UnicodeClasses.prepareInBackground()
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
            throw .unreadable(path: path, reason: "no such file or folder")
        }
        if isDir.boolValue {
            let dir = URL(fileURLWithPath: path)
            let config = try TokenizerConfig.load(folder: path)
            let tj = dir.appendingPathComponent("tokenizer.json").path
            if fm.fileExists(atPath: tj) { return try loadTokenizerJSON(tj, options: options, config: config) }
            let model = dir.appendingPathComponent("tokenizer.model").path
            if fm.fileExists(atPath: model) { return try loadSentencePiece(model, options: options, config: config) }
            let vj = dir.appendingPathComponent("vocab.json").path
            let mt = dir.appendingPathComponent("merges.txt").path
            if fm.fileExists(atPath: vj) && fm.fileExists(atPath: mt) {
                return try loadVocabMerges(vocab: vj, merges: mt, options: options, config: config)
            }
            let rankFiles = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".tiktoken") }.sorted()
            if rankFiles.count == 1 {
                return try loadTiktoken(dir.appendingPathComponent(rankFiles[0]).path, options: options)
            }
            throw .unknownFormat(path: path, message: rankFiles.count > 1
                ? "the folder holds several .tiktoken files (\(rankFiles.joined(separator: ", "))); name one"
                : "the folder holds no tokenizer.json, tokenizer.model, vocab.json + merges.txt, or .tiktoken file")
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
        if name.hasSuffix(".model") { return try loadSentencePiece(path, options: options) }
        return try loadTiktoken(path, options: options)
    }

    /// A tokenizer file's bytes: a regular file or a pipe (read once, and remembered for the
    /// build manifest's checksum).
    static func readFile(_ path: String) throws(TokenizerError) -> [UInt8] {
        do {
            return try InputFiles.readAll(path, limit: InputFiles.tokenizerFileLimit, remember: true)
        } catch {
            throw .unreadable(path: path, reason: error.reason)
        }
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

    /// Reads a `{"token": id, ...}` object into id → bytes and an index for merges, checking ids.
    /// - Parameter allowGaps: tokenizer.json vocabularies may leave ids to added tokens; the
    ///   loader checks the union instead.
    ///   `maxGaps` bounds how many: an id far beyond the token count is refused before anything
    ///   is allocated for it.
    /// - Parameter byteLevel: token strings are written in the GPT-2 byte alphabet (else they
    ///   are their own UTF-8, as in SentencePiece-style vocabularies).
    static func readVocab(_ vocab: JSONValue, path: String, jsonPath: String, allowGaps: Bool = false, maxGaps: Int = 0,
                          byteLevel: Bool = true) throws(TokenizerError)
        -> (tokens: [[UInt8]?], index: VocabIndex) {
        guard case .object(let members) = vocab else {
            throw .invalidContent(path: path, location: jsonPath, message: "expected an object mapping token strings to ids, found \(vocab.typeDescription)")
        }
        var maxId = -1
        for (token, value) in members {
            guard let id = value.intValue, id >= 0, id < Int(UInt32.max) else {
                throw .invalidContent(path: path, location: jsonPath, message: "token \(JSON.quoted(token)) has id \(value.typeDescription == "a number" ? "\(value)" : value.typeDescription); ids must be non-negative integers")
            }
            maxId = max(maxId, id)
        }
        if maxId >= members.count + (allowGaps ? maxGaps : 0) {
            throw .invalidContent(path: path, location: jsonPath, message: "id \(maxId) is beyond the \(members.count) tokens given, so ids below it are missing; ids must run from 0 without gaps")
        }
        // Fast path: every key is byte-level text and no two keys share bytes; then merges are
        // resolved on bytes through a flat table (no String hashing).
        var tokens = [[UInt8]?](repeating: nil, count: maxId + 1)
        var owner = [Int](repeating: -1, count: maxId + 1)
        var allByteLevel = true
        for (k, (token, value)) in members.enumerated() {
            let id = value.intValue ?? 0
            if owner[id] >= 0 {
                let other = members[owner[id]].0
                if other == token { continue }  // the same key twice with the same id
                let (a, b) = other < token ? (other, token) : (token, other)
                throw .invalidContent(path: path, location: jsonPath, message: "id \(id) is given to two tokens, \(JSON.quoted(a)) and \(JSON.quoted(b)); every token needs its own id")
            }
            owner[id] = k
            if !byteLevel {
                tokens[id] = Array(token.utf8)
            } else if let bytes = ByteLevel.fastDecode(token) {
                tokens[id] = bytes
            } else {
                tokens[id] = Array(token.utf8)
                allByteLevel = false
            }
        }
        if let gap = tokens.firstIndex(where: { $0 == nil }), !allowGaps {
            throw .invalidContent(path: path, location: jsonPath, message: "ids must run from 0 to \(maxId) without gaps, but no token has id \(gap); renumber the vocabulary")
        }
        let store = TokenStore(tokens)
        let lookup = BytesToId(store)
        if allByteLevel && lookup.duplicates == 0 {
            return (tokens, VocabIndex(store: store, lookup: lookup, strings: nil, byteLevel: byteLevel))
        }
        // Exact path: a String dictionary, the last of repeated keys winning (as Python's json).
        var ids: [String: UInt32] = [:]
        ids.reserveCapacity(members.count)
        for (token, value) in members { ids[token] = UInt32(value.intValue ?? 0) }
        tokens = [[UInt8]?](repeating: nil, count: maxId + 1)
        for (token, id) in ids { tokens[Int(id)] = byteLevel ? tokenBytes(token) : Array(token.utf8) }
        let exactStore = TokenStore(tokens)
        return (tokens, VocabIndex(store: exactStore, lookup: BytesToId(exactStore), strings: ids, byteLevel: byteLevel))
    }

    /// GPT-2 style `vocab.json` + `merges.txt`, as HF `BPE.from_file` with a ByteLevel
    /// pre-tokenizer reads them: merge rank = line order (after an optional `#version` line).
    static func loadVocabMerges(vocab: String, merges: String, options: LoadOptions, config: TokenizerConfig? = nil) throws(TokenizerError) -> Tokenizer {
        let vocabJSON = try parseJSON(try readFile(vocab), path: vocab)
        let (tokens, index) = try readVocab(vocabJSON, path: vocab, jsonPath: "")
        let mergeBytes = try readFile(merges)
        guard String(validating: mergeBytes, as: UTF8.self) != nil else {
            throw .invalidContent(path: merges, location: "", message: "not valid UTF-8 text")
        }
        let rules = PairRules(capacity: tokens.count)
        var rank: UInt32 = 0
        var lineNumber = 0
        var start = 0
        let version = Array("#version".utf8)
        let failure: TokenizerError? = mergeBytes.withUnsafeBufferPointer { (buf: UnsafeBufferPointer<UInt8>) -> TokenizerError? in
            while start < buf.count {
                var end = start
                while end < buf.count && buf[end] != 0x0A { end += 1 }
                lineNumber += 1
                var lineEnd = end
                if lineEnd > start && buf[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = UnsafeBufferPointer(rebasing: buf[start..<lineEnd])
                let isLast = end >= buf.count
                start = end + 1
                if line.starts(with: version) { continue }
                if line.isEmpty && isLast { continue }
                guard let space = line.firstIndex(of: 0x20), space > 0, space < line.count - 1,
                      !line[(space + 1)...].contains(0x20) else {
                    return .invalidContent(path: merges, location: "\(lineNumber)", message: "expected two tokens separated by one space, found \(JSON.quoted(String(decoding: line, as: UTF8.self)))")
                }
                do {
                    try addMerge(UnsafeBufferPointer(rebasing: line[..<space]), UnsafeBufferPointer(rebasing: line[(space + 1)...]),
                                 rank: rank, index: index, rules: rules, path: merges, location: "\(lineNumber)")
                } catch let e as TokenizerError {
                    return e
                } catch {
                    return .badOption("\(error)")
                }
                rank += 1
            }
            return nil
        }
        if let failure { throw failure }
        let pairs = try rules.table(path: merges)
        var model = BPEModel(store: index.store, lookup: index.lookup, pairs: pairs, wholePieceFirst: false)
        model.markSelfMergingTokens()
        // The <|...|> entries of the vocabulary are its special tokens (GPT-2: <|endoftext|>).
        var specials: [AddedToken] = []
        for (id, t) in tokens.enumerated() {
            guard let t, t.count > 4, t.starts(with: [0x3C, 0x7C]), t.suffix(2) == [0x7C, 0x3E] else { continue }
            specials.append(AddedToken(id: UInt32(id), content: String(decoding: t, as: UTF8.self), special: true))
        }
        let pattern = options.pattern ?? .gpt2
        return Tokenizer(format: .vocabMerges, paths: [vocab, merges], model: model, normalizer: .none,
                         steps: [.byteLevel(addPrefixSpace: false, pattern: pattern)],
                         addedTokens: specials, matchesAddedTokens: options.allowSpecial, config: config)
    }

    /// Adds merge `a b` (UTF-8 of the token strings) with `rank`. The merged token is `a` then
    /// `b` without its first `dropPrefix` bytes (HF's `continuing_subword_prefix`).
    static func addMerge(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, rank: UInt32, index: VocabIndex,
                         rules: PairRules, path: String, location: @autoclosure () -> String, dropPrefix: Int = 0) throws(TokenizerError) {
        func text(_ p: UnsafeBufferPointer<UInt8>) -> String { String(decoding: p, as: UTF8.self) }
        func merge() -> String { text(a) + " " + text(b) }
        guard let left = index.id(a) else {
            throw .invalidContent(path: path, location: location(), message: "merge \(JSON.quoted(merge())) names \(JSON.quoted(text(a))), which is not in the vocabulary")
        }
        guard let right = index.id(b) else {
            throw .invalidContent(path: path, location: location(), message: "merge \(JSON.quoted(merge())) names \(JSON.quoted(text(b))), which is not in the vocabulary")
        }
        guard b.count >= dropPrefix else {
            throw .invalidContent(path: path, location: location(), message: "merge \(JSON.quoted(merge())): \(JSON.quoted(text(b))) is shorter than the continuing_subword_prefix")
        }
        let tail = UnsafeBufferPointer(rebasing: b[dropPrefix...])
        guard let merged = index.id(concatenating: a, tail) else {
            throw .invalidContent(path: path, location: location(), message: "merge \(JSON.quoted(merge())) makes \(JSON.quoted(text(a) + text(tail))), which is not in the vocabulary")
        }
        rules.set(left, right, rank: rank, id: merged)
    }
}

/// Token string → id while reading merges. Byte-level vocabularies whose tokens all have distinct
/// bytes are indexed by bytes (flat table); anything else uses the exact String dictionary.
final class VocabIndex {
    let store: TokenStore
    let lookup: BytesToId
    let strings: [String: UInt32]?
    /// Token strings are in the GPT-2 byte alphabet (else they are their own UTF-8).
    let byteLevel: Bool
    /// Scratch for a token's bytes. Unchecked exclusivity: an index is used by the one thread
    /// that loads, and the runtime's access checks on this class property were ~125
    /// instructions a lookup (gpt2's 50k merges make 100k lookups; callgrind).
    @exclusivity(unchecked) private var buffer: [UInt8] = []

    init(store: TokenStore, lookup: BytesToId, strings: [String: UInt32]?, byteLevel: Bool = true) {
        self.store = store
        self.lookup = lookup
        self.strings = strings
        self.byteLevel = byteLevel
    }

    /// The id of the token whose string has UTF-8 `s`.
    func id(_ s: UnsafeBufferPointer<UInt8>) -> UInt32? {
        if let strings { return strings[String(decoding: s, as: UTF8.self)] }
        buffer.removeAll(keepingCapacity: true)
        if byteLevel {
            guard ByteLevel.fastDecode(s, into: &buffer) else { return nil }
        } else {
            buffer.append(contentsOf: s)
        }
        return find(buffer)
    }

    func id(concatenating a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> UInt32? {
        if let strings { return strings[String(decoding: a, as: UTF8.self) + String(decoding: b, as: UTF8.self)] }
        buffer.removeAll(keepingCapacity: true)
        if byteLevel {
            guard ByteLevel.fastDecode(a, into: &buffer), ByteLevel.fastDecode(b, into: &buffer) else { return nil }
        } else {
            buffer.append(contentsOf: a)
            buffer.append(contentsOf: b)
        }
        return find(buffer)
    }

    func id(_ s: String) -> UInt32? {
        var s = s
        return s.withUTF8 { id($0) }
    }

    private func find(_ bytes: [UInt8]) -> UInt32? {
        let id = bytes.withUnsafeBufferPointer { p -> UInt32 in
            guard let base = p.baseAddress else { return BytesToId.empty }
            return lookup.get(base, p.count)
        }
        return id == BytesToId.empty ? nil : id
    }
}

// MARK: - Reading input files: regular files, pipes and standard input

/// A file that could not be read, with the operating system's reason (`strerror`).
public struct FileReadError: Error, Sendable, CustomStringConvertible {
    public var path: String
    /// e.g. "No such file or directory", "Permission denied", "Is a directory".
    public var reason: String
    public var description: String { "\(path): cannot read: \(reason)" }
}

/// Reads input files the same way everywhere (tokenizer files, template files, texts, rows): a
/// regular file, a FIFO, `/dev/stdin`, a shell's `<(...)` or `-` (standard input) is read as a
/// stream with `read(2)`, once, from start to end — nothing seeks, nothing asks for the size first.
public enum InputFiles {
    /// Tokenizer files stop here (the largest real ones are tens of MB; a pipe can be endless).
    public static let tokenizerFileLimit = 1 << 30

    /// Opens `path` for reading; `-` is standard input (descriptor 0, not to be closed).
    /// - Throws: `FileReadError` with the operating system's reason; a folder is refused.
    public static func open(_ path: String) throws(FileReadError) -> Int32 {
        if path == "-" { return 0 }
        var fd: Int32
        repeat { fd = Foundation.open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        if fd < 0 { throw FileReadError(path: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            Foundation.close(fd)
            throw FileReadError(path: path, reason: "it is a folder; give a file")
        }
        return fd
    }

    /// Reads up to `count` bytes into `buffer` (retrying when a signal interrupts); 0 at the end.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, path: String) throws(FileReadError) -> Int {
        while true {
            let n = Foundation.read(fd, buffer, count)
            if n >= 0 { return n }
            if errno != EINTR { throw FileReadError(path: path, reason: String(cString: strerror(errno))) }
        }
    }

    /// Whether `path` names a regular file (one that could be read twice or measured).
    public static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return path != "-" && stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// The whole content of `path` (`-` = standard input).
    /// - Parameters:
    ///   - limit: inputs larger than this are refused (a pipe such as `/dev/zero` never ends).
    ///   - remember: keep the bytes of a pipe or device for `rememberedContents(of:)`, so that a
    ///     later reader (the build manifest's SHA-256 of a tokenizer file) need not read it again.
    /// - Complexity: O(size); one pass of `read(2)` in 1 MiB blocks.
    /// - Throws: `FileReadError` with the operating system's reason, or the limit.
    public static func readAll(_ path: String, limit: Int = Int.max, remember: Bool = false) throws(FileReadError) -> [UInt8] {
        if let kept = rememberedContents(of: path) { return kept }
        let fd = try open(path)
        defer { if fd != 0 { Foundation.close(fd) } }
        var info = stat()
        let regular = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        var bytes: [UInt8] = []
        if regular { bytes.reserveCapacity(min(Int(info.st_size), limit) + 1) }
        let block = 1 << 20
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: block, alignment: 16)
        defer { scratch.deallocate() }
        while true {
            let n = try read(fd, into: scratch.baseAddress.unsafelyUnwrapped, count: block, path: path)
            if n == 0 { break }
            if bytes.count + n > limit {
                let size = limit >= 1 << 20 ? "\(limit >> 20) MiB" : "\(limit) bytes"
                throw FileReadError(path: path, reason: "it is larger than \(size), the most finetok reads for this kind of file (is it the right file?)")
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
        }
        if remember && !regular {
            remembered.withLock { $0[path] = bytes }
        }
        return bytes
    }

    /// The bytes of a pipe read earlier with `remember: true`, or nil.
    public static func rememberedContents(of path: String) -> [UInt8]? {
        remembered.withLock { $0[path] }
    }

    private static let remembered = Remembered()

    /// Path → bytes, behind a lock.
    private final class Remembered: @unchecked Sendable {
        private var contents: [String: [UInt8]] = [:]
        private let lock = NSLock()
        func withLock<T>(_ body: (inout [String: [UInt8]]) -> T) -> T {
            lock.lock()
            defer { lock.unlock() }
            return body(&contents)
        }
    }
}

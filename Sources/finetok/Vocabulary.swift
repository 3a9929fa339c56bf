// `--vocab`: a bundled name (found in the package's vocab/ folder however the binary is run),
// a folder, or a file.

import Foundation
import Tokenizer

enum Vocabulary {
    static let bundled = ["gpt2", "pythia", "dolma2", "cl100k_base", "qwen2", "phi3"]

    /// Folders that may hold the package's `vocab/`: $FINETOK_VOCAB_DIR, then the folders above
    /// the executable (swift run, .build/release/finetok), then the source tree it was built from.
    static func searchRoots() -> [URL] {
        var roots: [URL] = []
        if let env = ProcessInfo.processInfo.environment["FINETOK_VOCAB_DIR"], !env.isEmpty {
            roots.append(URL(fileURLWithPath: env).deletingLastPathComponent())
            roots.append(URL(fileURLWithPath: env))
        }
        var exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        if let real = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            exe = URL(fileURLWithPath: real)
        }
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<6 {
            roots.append(dir)
            dir = dir.deletingLastPathComponent()
        }
        // Sources/finetok/Vocabulary.swift → the package root.
        roots.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent())
        return roots
    }

    static func resolve(_ name: String) throws -> String {
        if FileManager.default.fileExists(atPath: name) { return name }
        if bundled.contains(name) || !name.contains("/") {
            for root in searchRoots() {
                let candidate = root.appendingPathComponent("vocab").appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: candidate.path) { return candidate.path }
            }
            if bundled.contains(name) {
                throw InputError("cannot find the bundled vocabulary \"\(name)\": the package's vocab/ folder is not beside the binary; set FINETOK_VOCAB_DIR to that vocab/ folder or pass a path")
            }
        }
        throw InputError("\(name): no such file or folder (--vocab takes \(bundled.joined(separator: ", ")), a folder, or a file)")
    }

    /// Loads the tokenizer named by `--vocab` (default gpt2) and the loading options.
    static func load(_ args: Arguments) throws -> Tokenizer {
        let path = try resolve(args.value("vocab") ?? "gpt2")
        var options = LoadOptions()
        options.encoding = args.value("encoding")
        if let p = args.value("pattern") {
            guard let pattern = SplitPattern(name: p) else {
                throw UsageError("--pattern must be one of gpt2, cl100k, llama3, qwen2, o200k; got \"\(p)\"")
            }
            options.pattern = pattern
        }
        options.allowSpecial = args.has("allow-special")
        do {
            return try Tokenizer.load(path, options: options)
        } catch {
            if case .badOption(let m) = error { throw UsageError(m) }
            throw InputError(error.description)
        }
    }

    static let valued: Set<String> = ["vocab", "encoding", "pattern"]
    static let flags: Set<String> = ["allow-special"]
    static let help = """
          --vocab V            tokenizer: gpt2 (default), pythia, dolma2, cl100k_base, qwen2, phi3, a
                               model folder (tokenizer.json or tokenizer.model, with its
                               tokenizer_config.json; vocab.json + merges.txt; a .tiktoken file) or a file
          --encoding NAME      tiktoken encoding of a rank file (r50k_base, p50k_base, cl100k_base,
                               o200k_base, qwen2); inferred from the file name when omitted
          --pattern NAME       override the split pattern (gpt2, cl100k, llama3, qwen2, o200k)
          --allow-special      match special-token strings in the text (tiktoken allowed_special="all");
                               tokenizer.json files always match their added tokens, as HF does
        """
}

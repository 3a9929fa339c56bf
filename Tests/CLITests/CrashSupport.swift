// Support for the crash, lock and pipe tests: a tiny vocabulary and dataset made in code, a
// runner that can kill the `finetok` it started, and folder snapshots.

import Foundation
import XCTest

/// A byte-level BPE vocabulary small enough to load in milliseconds in a debug build: the 256
/// byte tokens (ids 0–255, GPT-2's byte-to-character map), four merges and `<|endoftext|>`.
///
///     Ġ t → Ġt (256)    h e → he (257)    Ġt he → Ġthe (258)    e r → er (259)    <|endoftext|> (260)
enum TinyVocabulary {
    /// GPT-2's `bytes_to_unicode`: printable Latin-1 bytes stand for themselves, the others are
    /// mapped in order to U+0100 and up.
    static func byteCharacters() -> [String] {
        var bytes = Array(33...126) + Array(161...172) + Array(174...255)
        var codes = bytes
        var n = 0
        for b in 0..<256 where !bytes.contains(b) {
            bytes.append(b)
            codes.append(256 + n)
            n += 1
        }
        var map = [String](repeating: "", count: 256)
        for (b, c) in zip(bytes, codes) { map[b] = String(UnicodeScalar(UInt32(c)).map(Character.init) ?? "?") }
        return map
    }

    /// Writes `vocab.json` and `merges.txt` into `folder` and returns the folder's path.
    static func write(in folder: URL) throws -> String {
        let vocabFolder = folder.appendingPathComponent("tiny-vocab")
        try FileManager.default.createDirectory(at: vocabFolder, withIntermediateDirectories: true)
        var vocab: [String: Int] = [:]
        for (b, s) in byteCharacters().enumerated() { vocab[s] = b }
        let added = ["Ġt", "he", "Ġthe", "er", "<|endoftext|>"]
        for (k, s) in added.enumerated() { vocab[s] = 256 + k }
        let json = try JSONSerialization.data(withJSONObject: vocab, options: [.sortedKeys])
        try json.write(to: vocabFolder.appendingPathComponent("vocab.json"))
        let merges = "#version: 0.2\nĠ t\nh e\nĠt he\ne r\n"
        try Data(merges.utf8).write(to: vocabFolder.appendingPathComponent("merges.txt"))
        return vocabFolder.path
    }
}

/// SplitMix64: a seeded generator for kill times and choices.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// `rows` question/answer rows of seeded random words, as JSONL.
func exampleRows(_ rows: Int, seed: UInt64) -> String {
    let words = ["the", "model", "token", "data", "train", "answer", "question", "there", "here", "other",
                 "weather", "layer", "é", "日本", "🙂", "\\\"quoted\\\"", "tab\\t", "new\\nline"]
    var rng = SplitMix64(seed: seed)
    func sentence(_ n: Int) -> String { (0..<n).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ") }
    return (0..<rows).map { _ in
        #"{"question": "\#(sentence(3 + Int(rng.next() % 12)))", "answer": "\#(sentence(1 + Int(rng.next() % 40)))"}"#
    }.joined(separator: "\n") + "\n"
}

/// How a run ended.
struct Exit {
    var status: Int32
    /// Killed by a signal (then `status` is the signal number).
    var signalled: Bool
    var stderr: String
}

/// A running `finetok`, its standard error going to a file.
final class RunningFinetok {
    let process = Process()
    private let errorFile: URL

    init(_ args: [String], environment: [String: String] = [:], stdin: FileHandle? = nil, scratch: URL) throws {
        errorFile = scratch.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let err = try FileHandle(forWritingTo: errorFile)
        process.executableURL = finetokBinary()
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        process.standardInput = stdin ?? FileHandle.nullDevice
        try process.run()
        try err.close()
    }

    var pid: Int32 { process.processIdentifier }

    func kill() { _ = Foundation.kill(process.processIdentifier, SIGKILL) }

    func wait() -> Exit {
        process.waitUntilExit()
        let text = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: errorFile)
        return Exit(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal, stderr: text)
    }
}

/// Every entry of a folder, hidden ones included: files with their bytes, folders as "NAME/".
func snapshot(_ folder: String) -> [String: Data] {
    var out: [String: Data] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
        let path = (folder as NSString).appendingPathComponent(name)
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
        if isDir.boolValue { out[name + "/"] = Data() } else { out[name] = FileManager.default.contents(atPath: path) ?? Data() }
    }
    return out
}

/// What differs between two snapshots, for a failure message.
func difference(_ got: [String: Data], _ want: [String: Data]) -> String {
    let missing = Set(want.keys).subtracting(got.keys).sorted()
    let extra = Set(got.keys).subtracting(want.keys).sorted()
    let changed = want.keys.filter { got[$0] != nil && got[$0] != want[$0] }.sorted()
    return "missing \(missing), extra \(extra), different \(changed)"
}

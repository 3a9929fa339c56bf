// --shard K/N + merge: for every output format, merging 1, 2 or 5 shards gives exactly the
// files of one build over the whole input; shards that do not belong together are refused;
// --shard auto reads Slurm and Kubernetes environments.

import Foundation
import XCTest
@testable import Builder
import Tokenizer

final class ShardTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = temporaryFolder("finetok-shards") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// Instruction rows in two files, with blank lines, a row missing a field and a malformed
    /// one (skipped and listed with their line numbers), a row too long for --max-length.
    func instructionInputs() -> [String] {
        let lamini = String(decoding: FileManager.default.contents(atPath: packageRoot.appendingPathComponent("examples/lamini_docs.jsonl").path) ?? Data(), as: UTF8.self)
        var lines = lamini.split(separator: "\n", omittingEmptySubsequences: false).prefix(160).map(String.init)
        lines.insert("", at: 7)
        lines.insert(#"{"question": "no answer"}"#, at: 40)
        lines.insert("{not json", at: 101)
        lines.insert(#"{"question": "long", "answer": "\#(String(repeating: "word ", count: 400))"}"#, at: 130)
        let a = writeFile(dir, "a.jsonl", lines.prefix(120).joined(separator: "\n") + "\n")
        let b = writeFile(dir, "b.jsonl", lines.dropFirst(120).joined(separator: "\n"))
        return [a, b]
    }

    /// A corpus and text rows, for the pre-training formats.
    func textInputs() -> [String] {
        let fixtures = builderFixtures.appendingPathComponent("pretraining")
        return [fixtures.appendingPathComponent("corpus.txt").path, fixtures.appendingPathComponent("docs.jsonl").path]
    }

    func files(_ folder: String) -> [String: Data] {
        var out: [String: Data] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            out[name] = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent(name))
        }
        return out
    }

    /// Builds `inputs` once, then as 1, 2 and 5 shards merged; every file must be identical.
    func assertMergeEqualsSingleBuild(_ label: String, inputs: [String], _ configure: (inout BuildOptions) -> Void) throws {
        var o = BuildOptions()
        o.threads = 2
        o.batchSize = 50
        configure(&o)
        let single = dir.appendingPathComponent("\(label)-single").path
        let report = try Build.run(inputs: inputs, tokenizer: Loaded.gpt2, options: o, outputDirectory: single)
        let want = files(single)
        XCTAssertTrue(want.keys.contains("manifest.json"))
        for n in [1, 2, 5] {
            var folders: [String] = []
            for k in 1...n {
                var s = o
                s.shard = ShardSpec(index: k, count: n)
                let folder = dir.appendingPathComponent("\(label)-\(n)-\(k)").path
                _ = try Build.run(inputs: inputs, tokenizer: Loaded.gpt2, options: s, outputDirectory: folder)
                XCTAssertEqual(Set(files(folder).keys), Set(ShardFolder.files))
                folders.append(folder)
            }
            let merged = dir.appendingPathComponent("\(label)-merged-\(n)").path
            let m = try Build.merge(shards: folders.reversed(), tokenizer: Loaded.gpt2, outputDirectory: merged, threads: 2)
            let got = files(merged)
            XCTAssertEqual(got.keys.sorted(), want.keys.sorted(), "\(label), \(n) shards")
            for (name, data) in want {
                XCTAssertTrue(got[name] == data, "\(label), \(n) shards: \(name) differs")
            }
            XCTAssertEqual(m.trainRows, report.trainRows)
            XCTAssertEqual(m.skipped, report.skipped)
        }
    }

    func testMergeEqualsSingleBuildForRowFormats() throws {
        try assertMergeEqualsSingleBuild("rows", inputs: instructionInputs()) {
            $0.formats = [.jsonl, .npy, .safetensors]
            $0.padding = .longest
            $0.padToMultipleOf = 8
            $0.encoding.maxLength = 256
            $0.encoding.truncation = .drop
            $0.skipInvalid = true
        }
    }

    func testMergeEqualsSingleBuildWhenPacking() throws {
        try assertMergeEqualsSingleBuild("bfd", inputs: instructionInputs()) {
            $0.formats = [.jsonl, .npy, .safetensors]
            $0.pack = 200
            $0.skipInvalid = true
        }
        try assertMergeEqualsSingleBuild("wrapped", inputs: instructionInputs()) {
            $0.pack = 64
            $0.packing = .wrapped
            $0.padding = .maxLength
            $0.testSize = 0.3
            $0.skipInvalid = true
        }
    }

    /// Megatron and flat token files: in input order (written during pass 1 by the single build,
    /// from the shards' rows by the merge) and split.
    func testMergeEqualsSingleBuildForPretrainingFormats() throws {
        try assertMergeEqualsSingleBuild("pretrain", inputs: textInputs()) {
            $0.formats = [.megatron, .tokens]
            $0.testSize = 0
        }
        try assertMergeEqualsSingleBuild("pretrain-split", inputs: textInputs()) {
            $0.formats = [.megatron, .jsonl]
            $0.documents = .lines
            $0.encoding.maxLength = 100
            $0.testSize = 0.25
        }
    }

    func shardFolders(_ inputs: [String], n: Int, label: String, _ configure: (inout BuildOptions) -> Void = { _ in }) throws -> [String] {
        try (1...n).map { k in
            var o = BuildOptions()
            o.testSize = 0
            o.shard = ShardSpec(index: k, count: n)
            configure(&o)
            let folder = dir.appendingPathComponent("\(label)-\(k)").path
            _ = try Build.run(inputs: inputs, tokenizer: Loaded.gpt2, options: o, outputDirectory: folder)
            return folder
        }
    }

    func mergeError(_ folders: [String], tokenizer: Tokenizer = Loaded.gpt2) -> String {
        let out = dir.appendingPathComponent("merged-\(UUID().uuidString)").path
        do {
            _ = try Build.merge(shards: folders, tokenizer: tokenizer, outputDirectory: out)
            return "no error"
        } catch {
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a failed merge left \(out)")
            return "\(error)"
        }
    }

    func testMergeRefusesShardsThatDoNotBelongTogether() throws {
        let inputs = textInputs()
        let three = try shardFolders(inputs, n: 3, label: "three")
        XCTAssertEqual(mergeError(three), "no error")
        XCTAssertTrue(mergeError([three[0], three[2]]).contains("1 of 3 shards missing: 2/3"), mergeError([three[0], three[2]]))
        XCTAssertTrue(mergeError([three[0], three[1], three[1], three[2]]).contains("shard 2/3 is given twice"))
        let two = try shardFolders(inputs, n: 2, label: "two")
        XCTAssertTrue(mergeError([three[0], two[1]]).contains("different --shard counts"))
        let other = try shardFolders(inputs, n: 3, label: "other") { $0.encoding.maxLength = 50 }
        XCTAssertTrue(mergeError([three[0], other[1], three[2]]).contains("max_length is 50 in one and unset in the other"), mergeError([three[0], other[1], three[2]]))
        let fewerInputs = try shardFolders([inputs[0]], n: 3, label: "fewer")
        XCTAssertTrue(mergeError([three[0], fewerInputs[1], three[2]]).contains("different inputs"))
        XCTAssertTrue(mergeError(three, tokenizer: Loaded.pythia).contains("not the one the shards were built with"))
        XCTAssertTrue(mergeError([dir.path]).contains("not a finetok shard folder"))
        XCTAssertTrue(mergeError([dir.appendingPathComponent("nothing").path]).contains("no such folder"))
        // A damaged shard: its rows file cut short.
        let rows = (three[1] as NSString).appendingPathComponent("rows.bin")
        let data = FileManager.default.contents(atPath: rows) ?? Data()
        _ = FileManager.default.createFile(atPath: rows, contents: data.dropLast(4))
        XCTAssertTrue(mergeError(three).contains("the shard folder is damaged"))
    }

    /// A bad row found by a later shard is reported at its line in the file.
    func testShardErrorsNameTheFilesLine() throws {
        let rows = (1...40).map { #"{"text": "row \#($0)"}"# } + [#"{"text": 7}"#] + (42...50).map { #"{"text": "row \#($0)"}"# }
        let input = writeFile(dir, "bad.jsonl", rows.joined(separator: "\n") + "\n")
        XCTAssertThrowsError(try shardFolders([input], n: 2, label: "bad")) {
            XCTAssertTrue("\($0)".hasPrefix("\(input):41: field \"text\" is a number"), "\($0)")
        }
    }

    func testMergeRefusesChangedInputs() throws {
        let input = writeFile(dir, "in.txt", "one document\n\nanother document\n")
        let shards = try shardFolders([input], n: 2, label: "changed")
        XCTAssertEqual(mergeError(shards), "no error")
        _ = FileManager.default.createFile(atPath: input, contents: Data("one document\n\nanother document!\n".utf8))
        XCTAssertTrue(mergeError(shards).contains("changed since the shards were built"))
    }

    /// More shards than units: empty shards are fine, and merge still equals the build.
    func testMoreShardsThanRows() throws {
        let input = writeFile(dir, "tiny.jsonl", #"{"text": "only row"}"# + "\n")
        let shards = try shardFolders([input], n: 4, label: "tiny") { $0.formats = [.tokens] }
        var o = BuildOptions()
        o.testSize = 0
        o.formats = [.tokens]
        let single = dir.appendingPathComponent("tiny-single").path
        _ = try Build.run(inputs: [input], tokenizer: Loaded.gpt2, options: o, outputDirectory: single)
        let merged = dir.appendingPathComponent("tiny-merged").path
        _ = try Build.merge(shards: shards, tokenizer: Loaded.gpt2, outputDirectory: merged)
        XCTAssertEqual(files(merged), files(single))
    }

    func testShardSpecFromEnvironment() throws {
        XCTAssertEqual(try ShardSpec.parse("2/5"), ShardSpec(index: 2, count: 5))
        for bad in ["0/5", "6/5", "2", "a/b", "2/5/1", "1/0"] { XCTAssertThrowsError(try ShardSpec.parse(bad), bad) }
        func env(_ e: [String: String], shards: Int? = nil) -> String {
            do { return try ShardSpec.fromEnvironment(e, shards: shards).description } catch { return "error: \(error)" }
        }
        XCTAssertEqual(env(["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "7"]), "1/8")
        XCTAssertEqual(env(["SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "7"]), "8/8")
        XCTAssertEqual(env(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4"]), "3/4")
        XCTAssertEqual(env(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4"], shards: 4), "3/4")
        XCTAssertTrue(env(["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "4"]).contains("not consecutive"))
        XCTAssertTrue(env(["SLURM_ARRAY_TASK_ID": "2"]).contains("neither SLURM_ARRAY_TASK_COUNT"))
        XCTAssertTrue(env(["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4"], shards: 5).contains("disagrees"))
        XCTAssertEqual(env(["JOB_COMPLETION_INDEX": "0"], shards: 3), "1/3")
        XCTAssertEqual(env(["JOB_COMPLETION_INDEX": "2"], shards: 3), "3/3")
        XCTAssertTrue(env(["JOB_COMPLETION_INDEX": "3"], shards: 3).contains("1 ≤ K ≤ N"))
        XCTAssertTrue(env(["JOB_COMPLETION_INDEX": "0"]).contains("needs --shards N"))
        XCTAssertTrue(env([:]).contains("no SLURM_ARRAY_TASK_ID"))
        XCTAssertTrue(env(["SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "2"]).contains("not a whole number"))
    }
}

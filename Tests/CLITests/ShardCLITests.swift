// The cluster flow end to end: N `finetok build --shard auto` processes at once under a fake
// Slurm job array or Kubernetes Indexed Job, then `finetok merge`, against one plain build.

import Foundation
import XCTest

final class ShardCLITests: XCTestCase {
    var dir: URL!
    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-shard-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// Starts `finetok args` with extra environment variables (not waited for).
    func start(_ args: [String], env: [String: String]) throws -> (Process, Pipe) {
        let p = Process()
        p.executableURL = finetokBinary()
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for k in e.keys where k.hasPrefix("SLURM_") || k == "JOB_COMPLETION_INDEX" { e[k] = nil }
        for (k, v) in env { e[k] = v }
        p.environment = e
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        return (p, err)
    }

    func files(_ folder: URL) -> [String: Data] {
        var out: [String: Data] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
            out[name] = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path)
        }
        return out
    }

    func input() throws -> [String] {
        let lamini = try String(contentsOf: packageRoot.appendingPathComponent("examples/lamini_docs.jsonl"), encoding: .utf8)
        let lines = lamini.split(separator: "\n").prefix(120)
        let a = dir.appendingPathComponent("part-a.jsonl"), b = dir.appendingPathComponent("part-b.jsonl")
        try (lines.prefix(50).joined(separator: "\n") + "\n").write(to: a, atomically: true, encoding: .utf8)
        try (lines.dropFirst(50).joined(separator: "\n") + "\n").write(to: b, atomically: true, encoding: .utf8)
        return [a.path, b.path]
    }

    /// Runs N shard processes at once with `env(k)` (k from 0), merges, compares with one build.
    func assertClusterFlow(_ n: Int, extra: [String], env: (Int) -> [String: String]) throws {
        let inputs = try input()
        let options = ["--vocab", "pythia", "--template", "qa", "--pack", "128", "--format", "jsonl,npy,safetensors", "--threads", "1"]
        let single = dir.appendingPathComponent("single")
        let r = try finetok(["build"] + inputs + options + ["--out", single.path, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var running: [(Process, Pipe)] = []
        for k in 0..<n {
            let out = dir.appendingPathComponent("shards/\(k)").path
            running.append(try start(["build"] + inputs + options + ["--shard", "auto", "--out", out] + extra, env: env(k)))
        }
        for (p, err) in running {
            p.waitUntilExit()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(p.terminationStatus, 0, message)
        }
        let shardDirs = (0..<n).map { dir.appendingPathComponent("shards/\($0)").path }
        let merged = dir.appendingPathComponent("merged")
        let m = try finetok(["merge"] + shardDirs.reversed() + ["--out", merged.path])
        XCTAssertEqual(m.status, 0, m.stderr)
        XCTAssertTrue(m.stdout.contains("shards       \(n) merged"), m.stdout)
        let want = files(single), got = files(merged)
        XCTAssertEqual(got.keys.sorted(), want.keys.sorted())
        for (name, data) in want { XCTAssertTrue(got[name] == data, "\(name) differs") }
        try? FileManager.default.removeItem(at: dir.appendingPathComponent("shards"))
        try? FileManager.default.removeItem(at: merged)
        try? FileManager.default.removeItem(at: single)
    }

    func testSlurmArrayThenMerge() throws {
        try assertClusterFlow(3, extra: []) { k in
            ["SLURM_ARRAY_TASK_ID": "\(k + 1)", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "3"]
        }
    }

    func testKubernetesIndexedJobThenMerge() throws {
        try assertClusterFlow(2, extra: ["--shards", "2"]) { k in ["JOB_COMPLETION_INDEX": "\(k)"] }
    }

    func testShardAndMergeUsageErrors() throws {
        let inputs = try input()
        let out = dir.appendingPathComponent("x").path
        let packing = try finetok(["build", inputs[0], "--packing", "wrapped", "--out", out])
        XCTAssertEqual(packing.status, 2)
        XCTAssertTrue(packing.stderr.contains("--packing needs --pack N"), packing.stderr)
        let auto = try finetok(["build", inputs[0], "--shard", "auto", "--out", out])
        XCTAssertEqual(auto.status, 2)
        let stdin = try finetok(["build", "-", "--shard", "1/2", "--out", out], stdin: "{\"text\": \"a\"}\n")
        XCTAssertEqual(stdin.status, 2)
        XCTAssertTrue(stdin.stderr.contains("standard input cannot be sharded"), stdin.stderr)
        let bad = try finetok(["build", inputs[0], "--shard", "3/2", "--out", out])
        XCTAssertTrue(bad.stderr.contains("need 1 ≤ K ≤ N"), bad.stderr)
        let shard = dir.appendingPathComponent("s1").path
        XCTAssertEqual(try finetok(["build", inputs[0], "--shard", "1/2", "--out", shard, "--quiet"]).status, 0)
        let missing = try finetok(["merge", shard, "--out", out])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("1 of 2 shards missing: 2/2"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let noOut = try finetok(["merge", shard])
        XCTAssertEqual(noOut.status, 2)
    }
}

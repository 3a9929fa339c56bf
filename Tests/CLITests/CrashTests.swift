// Crash tests, in the spirit of SQLite's: a build is killed with SIGKILL — at every stage
// boundary (reading, spill, split, each writer, the journal, the renames, the commit point)
// and at seeded random moments, sometimes twice in a row — then the same command runs again. It
// must exit 0 and leave files byte-identical to a clean build, for every output format (JSONL,
// npy, safetensors, Megatron + token files written while encoding, packed npy), into an empty
// folder and over finished files (--overwrite).
//
// The one exception is inherent: a build killed after its commit (the last milliseconds, or
// after it exited) has finished; the folder holds the complete output, and the next run into
// it without --overwrite is refused as "not empty", as after any build. That case is checked too.
//
// Stage boundaries use the test-only hook FINETOK_TEST_KILL_AT (Sources/Builder/TestHooks.swift).
// Default: every stage once (of the renames: the first, the middle, the last), the commit stages
// again over finished files, and 3 random kills per format — about 25 s in a debug build on two
// idle cores (50 s on a loaded machine). Release runs: FINETOK_CRASH_ITERATIONS=200 (random kills
// per format, and a kill at every rename); FINETOK_CRASH_SEED=S repeats a failing run's kill
// times (the seed is in the failure message; where a kill lands still varies with timing).

import Foundation
import XCTest

final class CrashTests: XCTestCase {
    var dir: URL!
    var vocab = ""
    var input = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        vocab = try TinyVocabulary.write(in: dir)
        input = dir.appendingPathComponent("rows.jsonl").path
        try Data(exampleRows(100, seed: 1).utf8).write(to: URL(fileURLWithPath: input))
    }

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    enum Format: String, CaseIterable {
        case jsonl, npy, safetensors, all
        /// Megatron and token files, written while the documents are encoded (`--test-size 0`:
        /// no spill, no second pass).
        case pretraining
        /// TRL-style packing into npy.
        case packed
        var options: [String] {
            switch self {
            case .pretraining: return ["--format", "megatron,tokens", "--train-on-prompt", "--test-size", "0"]
            case .packed: return ["--pack", "64", "--format", "npy"]
            case .jsonl: return ["--format", "jsonl"]
            case .npy: return ["--format", "npy", "--padding", "longest"]
            case .safetensors: return ["--format", "safetensors", "--padding", "max-length", "--max-length", "300", "--dtype", "int64"]
            case .all: return ["--format", "jsonl,npy,safetensors", "--padding", "longest"]
            }
        }
    }

    /// FINETOK_CRASH_ITERATIONS, the random kills per format (default 3; more is the long mode).
    var iterations: Int { ProcessInfo.processInfo.environment["FINETOK_CRASH_ITERATIONS"].flatMap { Int($0) } ?? 3 }
    var longMode: Bool { iterations > 3 }

    func command(_ format: Format, out: String, overwrite: Bool = false) -> [String] {
        ["build", input, "--vocab", vocab, "--out", out, "--threads", "2"] + format.options + (overwrite ? ["--overwrite"] : [])
    }

    func run(_ args: [String], environment: [String: String] = [:]) throws -> Exit {
        try RunningFinetok(args, environment: environment, scratch: dir).wait()
    }

    /// A clean build of `format`: its files, the stages it passed, and when (seconds after the
    /// launch), and how long it took.
    func cleanBuild(_ format: Format) throws -> (files: [String: Data], stages: [String], times: [Double], seconds: Double) {
        let out = dir.appendingPathComponent("clean-\(format)").path
        let start = ProcessInfo.processInfo.systemUptime
        let r = try run(command(format, out: out), environment: ["FINETOK_TEST_STAGES": "1"])
        let seconds = ProcessInfo.processInfo.systemUptime - start
        XCTAssertEqual(r.status, 0, r.stderr)
        let trace = stages(r.stderr)
        let files = snapshot(out)
        XCTAssertTrue(files.keys.allSatisfy { !$0.hasPrefix(".") }, "hidden files left: \(files.keys.sorted())")
        return (files, trace.map(\.name), trace.map { $0.uptime - start }, seconds)
    }

    /// The `finetok-test-stage: NAME<tab>UPTIME` lines of a run's standard error.
    func stages(_ stderr: String) -> [(name: String, uptime: Double)] {
        stderr.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("finetok-test-stage: ") else { return nil }
            let parts = line.dropFirst("finetok-test-stage: ".count).split(separator: "\t")
            return (String(parts[0]), parts.count > 1 ? Double(parts[1]) ?? 0 : 0)
        }
    }

    /// A folder holding another build's finished files (other settings) and a file of the user's.
    func folderWithOldFiles(_ old: [String: Data], at path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, bytes) in old { try bytes.write(to: URL(fileURLWithPath: path).appendingPathComponent(name)) }
        try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: path).appendingPathComponent("notes.txt"))
    }

    /// After a kill: the same command again exits 0 and leaves exactly `want` — or, if the killed
    /// build had already committed (into an empty folder), is refused as "not empty" with `want` there.
    func expectRecovery(_ args: [String], out: String, want: [String: Data], overwrite: Bool, context: String,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        // Every file in place (a hidden lock file or emptied partial folder may remain): the
        // killed build had committed, or was about to.
        let committed = snapshot(out).filter { !$0.key.hasPrefix(".") } == want
        let r = try run(args)
        if committed && !overwrite {
            XCTAssertTrue(r.status == 0 || (r.status == 2 && r.stderr.contains("is not empty")), "\(context): \(r.stderr)", file: file, line: line)
        } else {
            XCTAssertEqual(r.status, 0, "\(context): \(r.stderr)", file: file, line: line)
        }
        let got = snapshot(out)
        XCTAssertEqual(got, want, "\(context): \(difference(got, want))", file: file, line: line)
    }

    /// SIGKILL at every stage boundary of a build writing every format, into an empty folder;
    /// then at the commit stages of the same build replacing finished files (--overwrite).
    func testKillAtEveryStage() throws {
        let clean = try cleanBuild(.all)
        XCTAssertEqual(clean.files.count, 11, clean.files.keys.sorted().description)
        for expected in ["locked", "partial-folder", "reading", "spilled", "split", "wrote:train.jsonl", "wrote:train_*.npy",
                         "wrote:test.safetensors", "manifest", "journal", "moved:test.jsonl", "moved:manifest.json",
                         "journal-removed", "committed"] {
            XCTAssertTrue(clean.stages.contains(expected), "stage \(expected) not reached: \(clean.stages)")
        }
        // Every rename is the same step: by default the first, the middle and the last are
        // killed at; the long mode (FINETOK_CRASH_ITERATIONS) kills at each.
        let moved = clean.stages.filter { $0.hasPrefix("moved:") }
        let someMoves = Set([moved.first, moved.dropFirst(moved.count / 2).first, moved.last].compactMap { $0 })
        let stages = longMode ? clean.stages : clean.stages.filter { !$0.hasPrefix("moved:") || someMoves.contains($0) }
        for (k, stage) in stages.enumerated() {
            let out = dir.appendingPathComponent("stage-\(k)").path
            let killed = try run(command(.all, out: out), environment: ["FINETOK_TEST_KILL_AT": stage])
            XCTAssertTrue(killed.signalled && killed.status == SIGKILL, "\(stage): not killed: \(killed.stderr)")
            try expectRecovery(command(.all, out: out), out: out, want: clean.files, overwrite: false, context: "killed at \(stage)")
        }
        // Over finished files: another build's (other seed, int64) and a file of the user's.
        let oldOut = dir.appendingPathComponent("old").path
        let old = try run(command(.all, out: oldOut) + ["--seed", "9", "--dtype", "int64"])
        XCTAssertEqual(old.status, 0, old.stderr)
        let oldFiles = snapshot(oldOut)
        var want = clean.files
        want["notes.txt"] = Data("keep me\n".utf8)
        let commitStages = ["locked", "manifest", "journal"] + moved.filter(someMoves.contains) + ["journal-removed", "committed"]
        for (k, stage) in commitStages.enumerated() {
            let out = dir.appendingPathComponent("replace-\(k)").path
            try folderWithOldFiles(oldFiles, at: out)
            let args = command(.all, out: out, overwrite: true)
            let killed = try run(args, environment: ["FINETOK_TEST_KILL_AT": stage])
            XCTAssertTrue(killed.signalled && killed.status == SIGKILL, "\(stage): not killed: \(killed.stderr)")
            let left = snapshot(out).keys.filter { !$0.hasPrefix(".") }
            XCTAssertTrue(Set(left) == Set(want.keys), "killed at \(stage) while replacing: a file lost: \(left.sorted())")
            try expectRecovery(args, out: out, want: want, overwrite: true, context: "killed at \(stage) while replacing")
        }
    }

    /// SIGKILL at every stage boundary of a pre-training build that writes while it encodes
    /// (Megatron + token files, `--test-size 0`) and of a packed build.
    func testKillAtEveryStageOfStreamingAndPackedBuilds() throws {
        for format in [Format.pretraining, .packed] {
            let clean = try cleanBuild(format)
            XCTAssertTrue(clean.stages.contains("committed"), "\(format): \(clean.stages)")
            let moved = clean.stages.filter { $0.hasPrefix("moved:") }
            let stages = clean.stages.filter { !$0.hasPrefix("moved:") || $0 == moved.first || $0 == moved.last }
            for (k, stage) in stages.enumerated() {
                let out = dir.appendingPathComponent("\(format)-stage-\(k)").path
                let killed = try run(command(format, out: out), environment: ["FINETOK_TEST_KILL_AT": stage])
                XCTAssertTrue(killed.signalled && killed.status == SIGKILL, "\(format) \(stage): not killed: \(killed.stderr)")
                try expectRecovery(command(format, out: out), out: out, want: clean.files, overwrite: false, context: "\(format) killed at \(stage)")
            }
        }
    }

    /// SIGKILL at seeded random moments (one or two kills in a row), for each output format, into
    /// an empty folder or over finished files.
    func testKillAtRandomMoments() throws {
        let env = ProcessInfo.processInfo.environment
        let seed = env["FINETOK_CRASH_SEED"].flatMap { UInt64($0) } ?? 20_251_127
        var rng = SplitMix64(seed: seed)
        let old = try cleanBuild(.all).files
        var outcomes: [String: Int] = [:]
        for format in [Format.jsonl, .npy, .safetensors, .pretraining, .packed] {
            let clean = try cleanBuild(format)
            for i in 0..<iterations {
                let replace = rng.next() % 3 == 0
                let out = dir.appendingPathComponent("\(format)-\(i)").path
                var want = clean.files
                if replace {
                    try folderWithOldFiles(old, at: out)
                    want["notes.txt"] = Data("keep me\n".utf8)
                }
                let args = command(format, out: out, overwrite: replace)
                let kills = 1 + Int(rng.next() % 2)
                var delays: [Double] = []
                for _ in 0..<kills {
                    // A random moment in a random stage: kills reach the short stages as often as
                    // the long ones (encoding). The renames, milliseconds apart, count as one stage;
                    // the time after the commit is left out (the build has finished then).
                    let bounds = [0] + zip(clean.stages, clean.times).filter { !$0.0.hasPrefix("moved:") }.map(\.1)
                    let k = Int(rng.next() % UInt64(bounds.count - 1))
                    let delay = bounds[k] + rng.unit() * (bounds[k + 1] - bounds[k])
                    delays.append(delay)
                    let running = try RunningFinetok(args, environment: ["FINETOK_TEST_STAGES": "1"], scratch: dir)
                    usleep(UInt32(delay * 1e6))
                    running.kill()
                    let exit = running.wait()
                    let reached = stages(exit.stderr).last?.name
                    outcomes[exit.signalled ? "after \(reached ?? "start")" : "finished", default: 0] += 1
                }
                let context = "seed \(seed), \(format) iteration \(i), \(replace ? "replacing" : "fresh"), kills after \(delays.map { String(format: "%.3f s", $0) })"
                try expectRecovery(args, out: out, want: want, overwrite: replace, context: context)
                try? FileManager.default.removeItem(atPath: out)
            }
        }
        print("crash tests: seed \(seed), \(iterations) iterations per format; kills landed: \(outcomes.sorted { $0.key < $1.key })")
    }
}

/// SIGTERM (or Ctrl-C) while a build works removes its partial folder; during the commit it is
/// left to finish, so the build exits 0 with its files in place.
final class TerminateTests: XCTestCase {
    func testTerminateBeforeAndDuringTheCommit() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-term-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let vocab = try TinyVocabulary.write(in: dir)
        let input = dir.appendingPathComponent("rows.jsonl").path
        try Data(exampleRows(40, seed: 4).utf8).write(to: URL(fileURLWithPath: input))
        func build(_ out: String, at stage: String) throws -> Exit {
            try RunningFinetok(["build", input, "--vocab", vocab, "--out", out], environment: ["FINETOK_TEST_KILL_AT": stage, "FINETOK_TEST_KILL_SIGNAL": "\(SIGTERM)"], scratch: dir).wait()
        }
        for stage in ["reading", "manifest"] {
            let out = dir.appendingPathComponent("before-\(stage)").path
            let r = try build(out, at: stage)
            XCTAssertEqual(r.status, 128 + SIGTERM, "\(stage): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("terminated; no output was written"), r.stderr)
            XCTAssertEqual(snapshot(out), [:], stage)
        }
        for stage in ["journal", "moved:test.jsonl", "committed"] {
            let out = dir.appendingPathComponent("during-\(stage)").path
            let r = try build(out, at: stage)
            XCTAssertEqual(r.status, 0, "\(stage): \(r.stderr)")
            XCTAssertEqual(snapshot(out).keys.sorted(), ["manifest.json", "test.jsonl", "train.jsonl"], stage)
        }
    }
}

/// One build per output folder: a live build is refused with its PID; a dead one's partial
/// folder is removed with a note; racing builds end with exactly one winner.
final class LockTests: XCTestCase {
    var dir: URL!
    var vocab = ""
    var input = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-lock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        vocab = try TinyVocabulary.write(in: dir)
        input = dir.appendingPathComponent("rows.jsonl").path
        try Data(exampleRows(50, seed: 2).utf8).write(to: URL(fileURLWithPath: input))
    }

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// Starts a build that reads a FIFO nobody writes yet, and waits until it holds the lock and
    /// has made its partial folder.
    func startBlockedBuild(out: String) throws -> (RunningFinetok, fifo: String) {
        let fifo = dir.appendingPathComponent("rows-\(UUID().uuidString).jsonl").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let build = try RunningFinetok(["build", fifo, "--template", "qa", "--vocab", vocab, "--out", out], scratch: dir)
        for _ in 0..<200 where !snapshot(out).keys.contains(where: { $0.hasPrefix(".finetok-partial-\(build.pid)-") }) {
            usleep(25_000)
        }
        XCTAssertTrue(snapshot(out).keys.contains(where: { $0.hasPrefix(".finetok-partial-\(build.pid)-") }), "the build never started: \(snapshot(out).keys)")
        return (build, fifo)
    }

    func testLiveBuildIsRefusedWithItsPID() throws {
        let out = dir.appendingPathComponent("out").path
        let (first, fifo) = try startBlockedBuild(out: out)
        for extra in [[], ["--overwrite"]] {
            let second = try finetok(["build", input, "--template", "qa", "--vocab", vocab, "--out", out] + extra)
            XCTAssertEqual(second.status, 2, second.stderr)
            XCTAssertTrue(second.stderr.contains("is being written by another finetok build (process \(first.pid))"), second.stderr)
        }
        // The first build goes on undisturbed once its input comes.
        let writer = try XCTUnwrap(FileHandle(forWritingAtPath: fifo))
        writer.write(try Data(contentsOf: URL(fileURLWithPath: input)))
        try writer.close()
        let done = first.wait()
        XCTAssertEqual(done.status, 0, done.stderr)
        XCTAssertEqual(snapshot(out).keys.sorted(), ["manifest.json", "test.jsonl", "train.jsonl"])
    }

    func testStalePartialFolderIsRemovedWithANote() throws {
        let out = dir.appendingPathComponent("out").path
        let (dead, _) = try startBlockedBuild(out: out)
        dead.kill()
        _ = dead.wait()
        XCTAssertTrue(snapshot(out).keys.contains(where: { $0.hasPrefix(".finetok-partial-\(dead.pid)-") }))
        let r = try finetok(["build", input, "--template", "qa", "--vocab", vocab, "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("finetok: removed a partial build left by process \(dead.pid) (it is no longer running)"), r.stderr)
        XCTAssertEqual(snapshot(out).keys.sorted(), ["manifest.json", "test.jsonl", "train.jsonl"])
    }

    /// The lock decides, not the PID: a partial folder named after a live process (this test's)
    /// whose lock is not held is stale; a leftover lock file does not count as content.
    func testPIDsAreNotTrusted() throws {
        let out = dir.appendingPathComponent("out").path
        let partial = "\(out)/.finetok-partial-\(getpid())-7"
        try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        try Data("half a row".utf8).write(to: URL(fileURLWithPath: partial + "/train.jsonl"))
        try Data("\(getpid())\n".utf8).write(to: URL(fileURLWithPath: out + "/.finetok-lock"))
        let r = try finetok(["build", input, "--template", "qa", "--vocab", vocab, "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("removed a partial build left by process \(getpid())"), r.stderr)
        XCTAssertEqual(snapshot(out).keys.sorted(), ["manifest.json", "test.jsonl", "train.jsonl"])
    }

    /// Three builds started together on one folder: one writes it, the others are refused
    /// (busy, or not empty if they came after), and the files are those of a clean build.
    func testRacingBuilds() throws {
        let clean = dir.appendingPathComponent("clean").path
        XCTAssertEqual(try finetok(["build", input, "--template", "qa", "--vocab", vocab, "--out", clean]).status, 0)
        let out = dir.appendingPathComponent("raced").path
        let builds = try (0..<3).map { _ in
            try RunningFinetok(["build", input, "--template", "qa", "--vocab", vocab, "--out", out], scratch: dir)
        }
        let exits = builds.map { $0.wait() }
        XCTAssertEqual(exits.filter { $0.status == 0 }.count, 1, exits.map(\.stderr).description)
        for e in exits where e.status != 0 {
            XCTAssertEqual(e.status, 2, e.stderr)
            XCTAssertTrue(e.stderr.contains("is being written by another finetok build") || e.stderr.contains("is not empty"), e.stderr)
        }
        XCTAssertEqual(snapshot(out), snapshot(clean))
    }
}

// Test-only hooks for the crash tests (Tests/CLITests/CrashTests.swift). Inert unless one of
// these environment variables is set; not part of the interface, never needed by users:
//
//   FINETOK_TEST_STAGES=1       print `finetok-test-stage: NAME<tab>UPTIME` on standard error at
//                               each stage (UPTIME: ProcessInfo.systemUptime, in seconds)
//   FINETOK_TEST_KILL_AT=NAME   the build kills itself with SIGKILL on reaching stage NAME
//   FINETOK_TEST_KILL_SIGNAL=N  ... with signal N instead (e.g. 15, SIGTERM), then waits 0.5 s
//
// Stages, in order: locked, partial-folder, reading, spilled, split, wrote:FILE (after each
// output file is complete), manifest, journal, moved:FILE (after each rename into place),
// journal-removed (the commit point), committed.

import Foundation

enum TestHooks {
    private static let trace = ProcessInfo.processInfo.environment["FINETOK_TEST_STAGES"] == "1"
    private static let killAt = ProcessInfo.processInfo.environment["FINETOK_TEST_KILL_AT"]
    private static let signal = ProcessInfo.processInfo.environment["FINETOK_TEST_KILL_SIGNAL"].flatMap { Int32($0) } ?? SIGKILL

    /// Marks a stage boundary of a build (a no-op unless a test asked for it).
    static func stage(_ name: @autoclosure () -> String) {
        guard trace || killAt != nil else { return }
        let name = name()
        if trace {
            // With the system's uptime (one clock for all processes), so a test can time stages.
            let line = "finetok-test-stage: \(name)\t\(ProcessInfo.processInfo.systemUptime)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
        guard name == killAt else { return }
        kill(getpid(), signal)
        // Another signal is handled on another thread (the CLI's handler): give it time to act
        // before the build goes on, so what happens at this stage is what the test sees.
        if signal != SIGKILL { usleep(500_000) }
    }
}

// Test-only hooks for the crash tests (Tests/CLITests/CrashTests.swift). Inert unless one of
// these environment variables is set; not part of the interface, never needed by users:
//
//   FINETOK_TEST_STAGES=1       print `finetok-test-stage: NAME<tab>UPTIME` on standard error at
//                               each stage (UPTIME: ProcessInfo.systemUptime, in seconds)
//   FINETOK_TEST_KILL_AT=NAME   the build kills itself with SIGKILL on reaching stage NAME
//
// Stages, in order: locked, partial-folder, reading, spilled, split, wrote:FILE (after each
// output file is complete), manifest, journal, moved:FILE (after each rename into place),
// committed.

import Foundation

enum TestHooks {
    private static let trace = ProcessInfo.processInfo.environment["FINETOK_TEST_STAGES"] == "1"
    private static let killAt = ProcessInfo.processInfo.environment["FINETOK_TEST_KILL_AT"]

    /// Marks a stage boundary of a build (a no-op unless a test asked for it).
    static func stage(_ name: @autoclosure () -> String) {
        guard trace || killAt != nil else { return }
        let name = name()
        if trace {
            // With the system's uptime (one clock for all processes), so a test can time stages.
            let line = "finetok-test-stage: \(name)\t\(ProcessInfo.processInfo.systemUptime)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
        if name == killAt { kill(getpid(), SIGKILL) }
    }
}

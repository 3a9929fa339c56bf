// One build per output folder: `flock` on `.finetok-lock` inside it, held for the life of the
// build, with the holder's PID written in the file for the message a second build gets. The
// kernel releases the lock when the process dies however it dies (SIGKILL, OOM killer), so a
// crashed build never blocks the next one; the PID is only for the message (PIDs are reused).

import Foundation

final class FolderLock {
    static let fileName = ".finetok-lock"

    let path: String
    private var fd: Int32 = -1

    /// Takes the lock of `folder` (which exists).
    /// - Throws: `BuildError.usage` naming the PID if another build holds it; `.output` if the
    ///   lock file cannot be made (an unwritable folder) or locked.
    init(folder: String) throws {
        path = (folder as NSString).appendingPathComponent(FolderLock.fileName)
        for _ in 0..<100 {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            if fd < 0 && errno == ENOENT && mkdir(folder, 0o777) == 0 { continue }  // removed by a build that just failed
            if fd < 0 {
                throw BuildError.output("\(folder): cannot write in the output folder: \(String(cString: strerror(errno)))")
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let reason = errno
                if reason == EINTR { close(fd); continue }
                if reason == EWOULDBLOCK {
                    let owner = FolderLock.owner(fd)
                    close(fd)
                    throw BuildError.usage("--out \(folder) is being written by another finetok build (\(owner.map { "process \($0)" } ?? "a process that has not yet written its id")); wait for it to finish, or choose another folder")
                }
                close(fd)
                throw BuildError.output("\(path): cannot lock the output folder: \(String(cString: strerror(reason)))")
            }
            // The build that held the lock removes the file before releasing it; if it did so
            // between our open and our flock, we locked a file nobody else will open: retry.
            var held = stat(), named = stat()
            if fstat(fd, &held) == 0 && stat(path, &named) == 0 && held.st_dev == named.st_dev && held.st_ino == named.st_ino {
                let text = Array("\(getpid())\n".utf8)
                _ = ftruncate(fd, 0)
                _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                self.fd = fd
                return
            }
            close(fd)
        }
        throw BuildError.output("\(path): cannot lock the output folder: the lock file keeps being replaced")
    }

    /// The PID written in a lock file, waiting briefly for a holder that has just taken it.
    private static func owner(_ fd: Int32) -> Int32? {
        for attempt in 0..<5 {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            if n > 0, let pid = Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) {
                return pid
            }
            if attempt < 4 { usleep(20_000) }
        }
        return nil
    }

    /// Removes the lock file, then releases the lock (in that order: see `init`). Idempotent.
    func release() {
        guard fd >= 0 else { return }
        unlink(path)
        close(fd)
        fd = -1
    }

    deinit { release() }
}

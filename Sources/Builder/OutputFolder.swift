// The output folder: everything is written into a hidden temporary folder inside it and renamed
// into place only when the whole build succeeded, so a failed or interrupted run leaves no
// half-written file. A non-empty folder is refused unless `overwrite`.

import Foundation

final class OutputFolder {
    let path: String
    let temporary: String
    private let createdFolder: Bool
    private let overwrite: Bool

    /// Names finetok writes (replaced under --overwrite; nothing else is touched).
    static func isOutputName(_ name: String) -> Bool {
        if name == "manifest.json" || ShardFolder.files.contains(name) { return true }
        for split in ["train", "test"] {
            if name == "\(split).jsonl" || name == "\(split).safetensors" { return true }
            if ["bin", "idx", "bin.json"].contains(where: { name == "\(split).\($0)" }) { return true }
            if name.hasPrefix("\(split)_") && name.hasSuffix(".npy") { return true }
        }
        return name.hasPrefix(".finetok-partial-")
    }

    init(path: String, overwrite: Bool) throws {
        self.path = path
        self.overwrite = overwrite
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw BuildError.usage("--out \(path) is a file; give a folder (it is created if missing)")
            }
            let entries = (try? fm.contentsOfDirectory(atPath: path)) ?? []
            if !entries.isEmpty && !overwrite {
                throw BuildError.usage("--out \(path) is not empty (\(entries.count) entr\(entries.count == 1 ? "y" : "ies")); choose an empty folder or pass --overwrite")
            }
            createdFolder = false
        } else {
            do {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw BuildError.output("\(path): cannot create the output folder: \(error.localizedDescription)")
            }
            createdFolder = true
        }
        guard access(path, W_OK) == 0 else {
            throw BuildError.output("\(path): the output folder is not writable")
        }
        temporary = (path as NSString).appendingPathComponent(".finetok-partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try fm.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        } catch {
            throw BuildError.output("\(path): cannot write in the output folder: \(error.localizedDescription)")
        }
        TemporaryOutputs.register(temporary)
    }

    func temporaryPath(_ name: String) -> String { (temporary as NSString).appendingPathComponent(name) }

    /// Moves every finished file into place.
    func commit() throws {
        let fm = FileManager.default
        if overwrite {
            for name in (try? fm.contentsOfDirectory(atPath: path)) ?? [] where OutputFolder.isOutputName(name) {
                let full = (path as NSString).appendingPathComponent(name)
                if full != temporary { try? fm.removeItem(atPath: full) }
            }
        }
        let names = ((try? fm.contentsOfDirectory(atPath: temporary)) ?? []).sorted()
        for name in names {
            let from = temporaryPath(name)
            let to = (path as NSString).appendingPathComponent(name)
            if rename(from, to) != 0 {
                let reason = String(cString: strerror(errno))
                discard()
                throw BuildError.output("\(to): cannot move the finished file into place: \(reason)")
            }
        }
        try? fm.removeItem(atPath: temporary)
        TemporaryOutputs.unregister(temporary)
    }

    /// Removes everything this run wrote.
    func discard() {
        try? FileManager.default.removeItem(atPath: temporary)
        TemporaryOutputs.unregister(temporary)
        if createdFolder, ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? ["?"]).isEmpty {
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}

/// Temporary output folders of running builds, removed on SIGINT/SIGTERM by the CLI.
public enum TemporaryOutputs {
    nonisolated(unsafe) private static var paths: Set<String> = []
    private static let lock = NSLock()

    static func register(_ p: String) { lock.lock(); paths.insert(p); lock.unlock() }
    static func unregister(_ p: String) { lock.lock(); paths.remove(p); lock.unlock() }

    /// Removes every registered temporary folder (called when the process is interrupted).
    public static func removeAll() {
        lock.lock()
        let all = paths
        paths.removeAll()
        lock.unlock()
        for p in all { try? FileManager.default.removeItem(atPath: p) }
    }
}

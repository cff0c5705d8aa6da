import Glibc
import JobCreds

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The worker's record of the jobs it has taken, one file per job in `STATE/journal/`, each
/// written whole and durably (a temporary file, fsync, rename, fsync of the directory) before the
/// step it records: before acknowledging, before starting the build, before reporting. A
/// restarted worker reads it to report what it owes and nothing twice.
///
/// Thread-safety: each job's file is written by the one task that runs the job.
public struct Journal: Sendable {
    /// The journal's directory.
    public let directory: String

    /// Opens (making it, 0700, if missing) `STATE/journal`.
    /// - Throws: `JobCredsError.usage` naming the directory when it cannot be made or is not a
    ///   directory of the worker's user that others cannot write.
    public init(stateDirectory: String) throws(JobCredsError) {
        directory = stateDirectory + "/journal"
        try Directories.make(stateDirectory, mode: 0o711)
        try Directories.make(directory, mode: 0o700)
    }

    /// Records `entry`, replacing the job's previous record, durably.
    /// - Throws: `JobCredsError` when the record could not be made durable (a full disk).
    public func record(_ entry: JournalEntry) throws(JobCredsError) {
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            data = try encoder.encode(entry)
        } catch {
            throw JobCredsError(.failed, "cannot encode the journal entry of job \(entry.jobId)")
        }
        let path = self.path(of: entry.jobId)
        let temporary = path + ".tmp"
        try Directories.writeDurably(Array(data), to: temporary, mode: 0o600)
        guard rename(temporary, path) == 0 else {
            throw JobCredsError(.failed, "cannot record job \(entry.jobId) in \(directory): \(Directories.reason())")
        }
        try Directories.sync(directory)
    }

    /// Forgets the job (it was reported, or dropped).
    public func remove(_ jobId: String) {
        unlink(path(of: jobId))
        try? Directories.sync(directory)
    }

    /// Every recorded job; a record that cannot be read is skipped and named in `unreadable`.
    public func entries() -> (entries: [JournalEntry], unreadable: [String]) {
        var entries: [JournalEntry] = []
        var unreadable: [String] = []
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path),
                let entry = try? JSONDecoder().decode(JournalEntry.self, from: data)
            else {
                unreadable.append(path)
                continue
            }
            entries.append(entry)
        }
        return (entries, unreadable)
    }

    /// A job's file: its id where that is a safe file name, else its id's hex.
    private func path(of jobId: String) -> String {
        directory + "/" + Directories.safeName(jobId) + ".json"
    }
}

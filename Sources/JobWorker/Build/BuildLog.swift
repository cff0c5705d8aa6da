import Glibc
import JobCreds
import Logging
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A build's standard output and standard error (one pipe, so their lines keep their order),
/// read on a thread of its own, line by line: each line scrubbed of every secret value the
/// worker knows, then written to the job's log file (`STATE/logs/JOB.log`, at most 10 MiB before
/// it becomes `JOB.log.1`: the last 10 MiB at least are kept, 20 at most) and to the worker's log, and the last
/// lines kept for a failure message.
///
/// Thread-safety: `lastLines` and `finish` may be called from any thread.
final class BuildLog: Sendable {
    /// The write end, for the build; the worker's copy is closed once the build started.
    let writeEnd: Int32
    private let readEnd: Int32
    private let path: String
    private let scrubber: Scrubber
    private let logger: Logger
    private let jobId: String
    private let tail = Mutex<[String]>([])
    private let finishing = Atomic<Bool>(false)
    private let done = Mutex<(finished: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    /// How many of the last lines are kept.
    static let tailLines = 20
    /// The longest line kept whole; longer ones are cut.
    static let longestLine = 4096
    /// The log file's size at which it is rotated.
    static let rotateAt = 10 * 1024 * 1024

    /// Opens the pipe and the log file and starts reading.
    /// - Throws: `JobCredsError.failed` when the pipe or the file cannot be made.
    init(path: String, jobId: String, scrubber: Scrubber, logger: Logger) throws(JobCredsError) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            throw JobCredsError(.failed, "cannot make the build's output pipe: \(Directories.reason())")
        }
        readEnd = ends[0]
        writeEnd = ends[1]
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)  // the build gets the write end through dup2 only
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        self.path = path
        self.jobId = jobId
        self.scrubber = scrubber
        self.logger = logger
        DetachedThread.start { [self] in self.pump() }
    }

    /// The last lines, scrubbed, oldest first.
    var lastLines: [String] { tail.withLock { $0 } }

    /// Closes the worker's write end (the build holds its own copy).
    func closeWriteEnd() { close(writeEnd) }

    /// Waits until the build's output has ended, at most `limit` (a process the build left
    /// behind may hold the pipe open), then stops reading.
    func finish(within limit: Duration) async {
        Task { [self] in
            try? await Task.sleep(for: limit)
            finishing.store(true, ordering: .releasing)
        }
        await withCheckedContinuation { continuation in
            let finished = done.withLock { state in
                if state.finished { return true }
                state.waiter = continuation
                return false
            }
            if finished { continuation.resume() }
        }
    }

    private func pump() {
        var file = openLog()
        var written = 0
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        func emit(_ bytes: ArraySlice<UInt8>) {
            let text = scrubber.scrub(String(decoding: bytes.prefix(Self.longestLine), as: UTF8.self))
            let line = Array((text + (bytes.count > Self.longestLine ? " …(cut)" : "") + "\n").utf8)
            if file >= 0 {
                if written + line.count > Self.rotateAt {
                    close(file)
                    rename(path, path + ".1")
                    file = openLog()
                    written = 0
                }
                _ = line.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
                written += line.count
            }
            logger.info("build output", metadata: ["job_id": "\(jobId)", "line": "\(text)"])
            tail.withLock { tail in
                tail.append(text)
                if tail.count > Self.tailLines { tail.removeFirst(tail.count - Self.tailLines) }
            }
        }
        while true {
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            if ready < 0, errno == EINTR { continue }
            if ready == 0 {
                if finishing.load(ordering: .acquiring) { break }
                continue
            }
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            pending.append(contentsOf: buffer[0..<count])
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                emit(pending[..<newline])
                pending.removeSubrange(...newline)
            }
            if pending.count > Self.longestLine * 4 {  // a line without end: cut it here
                emit(pending[...])
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty { emit(pending[...]) }
        close(readEnd)
        if file >= 0 { close(file) }
        let waiter = done.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func openLog() -> Int32 {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if descriptor < 0 {
            logger.warning(
                "cannot open the build's log file", metadata: ["path": "\(path)", "error": "\(Directories.reason())"])
        }
        return descriptor
    }
}

internal import CProcessSpawn
import Glibc
import JobCreds
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A build's process: started in a session of its own as its user, waited for on a thread of
/// its own, stopped by its whole process group.
///
/// Thread-safety: every method may be called from any thread.
final class BuildProcess: Sendable {
    /// How a build ended.
    enum Exit: Sendable, Equatable {
        /// It exited with this status.
        case exited(Int32)
        /// A signal killed it.
        case signaled(Int32)
    }

    /// Why the worker stopped a build.
    enum StopReason: String, Sendable {
        /// It ran past `--build-timeout`.
        case timeout
        /// The worker was stopped and the drain timeout passed.
        case drain
    }

    /// The process id, which is also its session's and its process group's.
    let pid: pid_t
    private let state = Mutex<State>(.running([]))
    private let stopped = Mutex<StopReason?>(nil)

    private enum State {
        case running([CheckedContinuation<Exit, Never>])
        case exited(Exit)
    }

    /// Why the worker stopped it, if it did (the first reason given).
    var stopReason: StopReason? { stopped.withLock { $0 } }

    /// Starts `path` with exactly `arguments` and `environment`, in `directory`, as `user` (nil:
    /// the worker's), its output to `output`.
    /// - Throws: `JobCredsError.commandNotFound`/`.commandNotExecutable` when exec failed for the
    ///   command, `.failed` when another step failed (naming it).
    init(
        path: String, arguments: [String], environment: [String: String], directory: String,
        user: (uid: UInt32, gid: UInt32)?, output: Int32
    ) throws(JobCredsError) {
        var step: Int32 = 0
        var code: Int32 = 0
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let child = path.withCString { cPath in
            directory.withCString { cDirectory in
                argv.withUnsafeBufferPointer { cArgv in
                    envp.withUnsafeBufferPointer { cEnvp in
                        var build = CProcessSpawn_Build(
                            path: cPath, argv: cArgv.baseAddress, envp: cEnvp.baseAddress, directory: cDirectory,
                            uid: user.map { Int64($0.uid) } ?? -1, gid: user.map { Int64($0.gid) } ?? -1,
                            stdout_fd: output, stderr_fd: output)
                        return CProcessSpawn_spawn(&build, &step, &code)
                    }
                }
            }
        }
        guard child > 0 else { throw Self.failure(step: step, code: code, path: path) }
        pid = child
        DetachedThread.start { [self] in self.reap() }
    }

    /// Waits for the process to exit.
    func exit() async -> Exit {
        await withCheckedContinuation { continuation in
            let done: Exit? = state.withLock { state in
                switch state {
                case .exited(let exit): return exit
                case .running(var waiters):
                    waiters.append(continuation)
                    state = .running(waiters)
                    return nil
                }
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Stops the build: SIGTERM to its process group, SIGKILL `grace` later if it still runs.
    func stop(_ reason: StopReason, grace: Duration = .seconds(10)) {
        let first = stopped.withLock { current in
            guard current == nil else { return false }
            current = reason
            return true
        }
        guard first else { return }
        killpg(pid, SIGTERM)
        Task { [self] in
            try? await Task.sleep(for: grace)
            if case .running = state.withLock({ $0 }) { killpg(pid, SIGKILL) }
        }
    }

    /// SIGKILL to whatever is left of its process group (a child the build left behind).
    func killGroup() { killpg(pid, SIGKILL) }

    private func reap() {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                status = 127 << 8  // lost: as if it could not run
                break
            }
        }
        let exit: Exit = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
        let waiters = state.withLock { state -> [CheckedContinuation<Exit, Never>] in
            guard case .running(let waiters) = state else { return [] }
            state = .exited(exit)
            return waiters
        }
        waiters.forEach { $0.resume(returning: exit) }
    }

    private static func failure(step: Int32, code: Int32, path: String) -> JobCredsError {
        let reason = String(cString: strerror(code))
        switch Int(step) {
        case Int(CProcessSpawn_step_exec):
            if code == ENOENT { return JobCredsError(.commandNotFound, "\(path): command not found") }
            return JobCredsError(.commandNotExecutable, "\(path) cannot be run: \(reason)")
        case Int(CProcessSpawn_step_uid), Int(CProcessSpawn_step_gid), Int(CProcessSpawn_step_groups):
            return JobCredsError(.failed, "cannot take the build's user: \(reason)")
        case Int(CProcessSpawn_step_directory):
            return JobCredsError(.failed, "cannot enter the workspace: \(reason)")
        default:
            return JobCredsError(.failed, "cannot start the build: \(reason)")
        }
    }

    /// Kills every process of `uid` (a build's own user, at its end).
    static func killUser(_ uid: UInt32) -> Bool { CProcessSpawn_kill_user(Int64(uid)) == 0 }
}

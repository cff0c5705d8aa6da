import Logging

extension Logging {
    /// Sends operational logs to stderr at `JOBCREDS_LOG_LEVEL` (default `warning`), once.
    static func bootstrapped(environment: [String: String]) -> Logger {
        let level = environment["JOBCREDS_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "jobcreds")
    }
}

/// A namespace for the bootstrap (swift-log's module is also called `Logging`).
enum Logging {}

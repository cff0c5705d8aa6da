import ArgumentParser
import JobCreds
import Logging

/// `--log-level` and `--log-format`: the operational log on standard error (the audit log is
/// separate and always JSON).
struct LoggingOptions: ParsableArguments {
    /// The level unless told otherwise.
    static let defaultLevel = "info"
    /// The format unless told otherwise.
    static let defaultFormat = "text"

    @Option(
        help: ArgumentHelp(
            "trace, debug, info, notice, warning, error or critical (env JOBCREDS_LOG_LEVEL; default \(defaultLevel)).",
            valueName: "level"))
    var logLevel: String?

    @Option(
        help: ArgumentHelp(
            "text (for people) or json (one object per line) (env JOBCREDS_LOG_FORMAT; default \(defaultFormat)).",
            valueName: "format"))
    var logFormat: String?

    /// Bootstraps swift-log once and returns the process's logger.
    /// - Throws: `JobCredsError.usage` for an unknown level or format.
    func bootstrap(environment: [String: String]) throws(JobCredsError) -> Logger {
        let env = EnvironmentOptions(environment)
        let levelText = logLevel ?? env["LOG_LEVEL"] ?? Self.defaultLevel
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw JobCredsError(
                .usage,
                "--log-level \(levelText) is not a level; use trace, debug, info, notice, warning, error or critical")
        }
        let format = (logFormat ?? env["LOG_FORMAT"] ?? Self.defaultFormat).lowercased()
        guard format == "text" || format == "json" else {
            throw JobCredsError(.usage, "--log-format \(format) is not a format; use text or json")
        }
        LoggingSystem.bootstrap { label in
            if format == "json" {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = TextLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "jobcreds")
    }
}

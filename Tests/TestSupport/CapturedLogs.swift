import Logging
import Synchronization

/// A swift-log handler that keeps every line, metadata included, for canary assertions.
public final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    /// Every line logged so far, rendered with its metadata.
    public var all: [String] { lines.withLock { $0 } }

    /// A logger writing into this capture at trace level.
    public func logger(label: String = "test") -> Logger {
        Logger(label: label) { label in Handler(label: label, sink: self) }
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let label: String
        let sink: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            sink.append("\(event.level) \(label): \(event.message) \(all)")
        }
    }
}

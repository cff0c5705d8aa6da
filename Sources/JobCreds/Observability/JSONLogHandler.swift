import AWSSigning
import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A swift-log handler that writes one JSON object per line to standard error (`--log-format
/// json`): `time`, `level`, `logger`, `message`, then the metadata, each value as a string.
/// Every value is escaped (`JSONText`), so a message can never break the line.
///
/// Thread-safety: each line goes out in one `write(2)`; the handler is a value.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: @Sendable (String) -> Void

    /// A handler for `label` writing to `output` (standard error unless told otherwise).
    public init(label: String, output: @escaping @Sendable (String) -> Void = StandardError.writeLine) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var fields: [(String, String?)] = [
            ("time", JSONText.quote(AWSDate.iso8601(Date(), milliseconds: true))),
            ("level", JSONText.quote(event.level.rawValue)),
            ("logger", JSONText.quote(label)),
            ("message", JSONText.quote(event.message.description)),
        ]
        for key in merged.keys.sorted() where !["time", "level", "logger", "message"].contains(key) {
            fields.append((key, merged[key].map { JSONText.quote($0.description) }))
        }
        output(JSONText.object(fields))
    }
}

import Logging

/// The `text` operational log: swift-log's standard-error format, with every message and
/// metadata value passed through `TerminalText.escaped` first, since both can carry upstream text
/// (a request id, an error's description). One line per record, whatever the record holds.
public struct TextLogHandler: LogHandler {
    private var stream: StreamLogHandler

    /// A handler for `label` writing to standard error.
    public init(label: String) {
        stream = StreamLogHandler.standardError(label: label)
    }

    public var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { stream.metadata }
        set { stream.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { stream[metadataKey: key] }
        set { stream[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var escapedEvent = event
        escapedEvent.message = "\(TerminalText.escaped(event.message.description))"
        escapedEvent.metadata = event.metadata.map(Self.escaped)
        stream.log(event: escapedEvent)
    }

    // swift-log's handler also prints the handler's own metadata, set only by this program.
    static func escaped(_ metadata: Logger.Metadata) -> Logger.Metadata {
        metadata.mapValues(escaped)
    }

    static func escaped(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(TerminalText.escaped(text))
        case .stringConvertible(let convertible): .string(TerminalText.escaped(convertible.description))
        case .array(let values): .array(values.map(escaped))
        case .dictionary(let values): .dictionary(values.mapValues(escaped))
        }
    }
}

/// Durations written as `90s`, `15m`, `1h`, `250ms` or combined, `1h30m`.
public enum DurationText {
    /// Parses `text`.
    /// - Throws: `JobCredsError.usage` for anything else, or a zero duration.
    public static func parse(_ text: String, option: String) throws(JobCredsError) -> Duration {
        var milliseconds: Int64 = 0
        var number: Int64? = nil
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if let digit = character.wholeNumberValue, character.isASCII {
                let value = (number ?? 0) * 10 + Int64(digit)
                guard value < 10_000_000 else { throw invalid(text, option) }
                number = value
            } else if let value = number, character == "m", characters.first == "s" {
                characters.removeFirst()
                milliseconds += value
                number = nil
            } else if let value = number, let unit = ["s": Int64(1000), "m": 60_000, "h": 3_600_000][character] {
                milliseconds += value * unit
                number = nil
            } else {
                throw invalid(text, option)
            }
        }
        guard number == nil, milliseconds > 0 else { throw invalid(text, option) }
        return .milliseconds(milliseconds)
    }

    /// `15m`, `90s`, `1h30m`, `250ms`: the shortest way to write `duration`.
    public static func format(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        let milliseconds = duration.components.attoseconds / 1_000_000_000_000_000
        var parts = ""
        if seconds >= 3600 { parts += "\(seconds / 3600)h" }
        if seconds % 3600 >= 60 { parts += "\(seconds % 3600 / 60)m" }
        if seconds % 60 > 0 || (parts.isEmpty && milliseconds == 0) { parts += "\(seconds % 60)s" }
        if milliseconds > 0 { parts += "\(milliseconds)ms" }
        return parts
    }

    private static func invalid(_ text: String, _ option: String) -> JobCredsError {
        JobCredsError(.usage, "\(option) \(text) is not a duration such as 90s, 15m or 1h")
    }
}

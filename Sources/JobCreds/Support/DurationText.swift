/// Durations written as `90s`, `15m`, `1h` or combined, `1h30m`.
public enum DurationText {
    /// Parses `text`.
    /// - Throws: `JobCredsError.usage` for anything else, or a zero duration.
    public static func parse(_ text: String, option: String) throws(JobCredsError) -> Duration {
        var total: Int64 = 0
        var number: Int64? = nil
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                let value = (number ?? 0) * 10 + Int64(digit)
                guard value < 10_000_000 else { throw invalid(text, option) }
                number = value
            } else if let value = number, let unit = ["s": Int64(1), "m": 60, "h": 3600][character] {
                total += value * unit
                number = nil
            } else {
                throw invalid(text, option)
            }
        }
        guard number == nil, total > 0 else { throw invalid(text, option) }
        return .seconds(total)
    }

    /// `15m`, `90s`, `1h30m`: the shortest way to write `duration`.
    public static func format(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        var parts = ""
        if seconds >= 3600 { parts += "\(seconds / 3600)h" }
        if seconds % 3600 >= 60 { parts += "\(seconds % 3600 / 60)m" }
        if seconds % 60 > 0 || parts.isEmpty { parts += "\(seconds % 60)s" }
        return parts
    }

    private static func invalid(_ text: String, _ option: String) -> JobCredsError {
        JobCredsError(.usage, "\(option) \(text) is not a duration such as 90s, 15m or 1h")
    }
}

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The UTC date formats AWS uses, written and read by hand: no formatter, no locale, no ICU.
public enum AWSDate {
    /// A civil UTC time, to the second.
    public struct Civil: Equatable, Sendable {
        public var year, month, day, hour, minute, second: Int

        /// Fields as given; `date(_:)` checks their ranges.
        public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
            (self.year, self.month, self.day, self.hour, self.minute, self.second) = (
                year, month, day, hour, minute, second
            )
        }
    }

    /// The seconds since 1970 these formats can write: 0001-01-01T00:00:00Z through
    /// 9999-12-31T23:59:59Z (four-digit years). Dates from elsewhere are checked against it before
    /// they are kept (`contains(_:)`).
    public static let writable: ClosedRange<TimeInterval> = -62_135_596_800...253_402_300_799

    /// Whether `date` is finite and within `writable`.
    public static func contains(_ date: Date) -> Bool {
        writable.contains(date.timeIntervalSince1970)
    }

    /// Splits `date` into its UTC calendar fields (fractions of a second are dropped). A date
    /// outside `writable` (or not a number) gives the nearest end of it: never a trap.
    public static func civil(_ date: Date) -> Civil {
        let seconds = date.timeIntervalSince1970
        let bounded = seconds.isNaN ? writable.lowerBound : min(max(seconds, writable.lowerBound), writable.upperBound)
        let total = Int(bounded.rounded(.down))
        let days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
        let secondsOfDay = total - days * 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return Civil(
            year: year, month: month, day: day, hour: secondsOfDay / 3600, minute: secondsOfDay % 3600 / 60,
            second: secondsOfDay % 60)
    }

    /// The date for UTC calendar fields, or nil when a field is out of its range (years 1-9999,
    /// months 1-12, days 1-31, hours 0-23, minutes 0-59, seconds 0-60).
    public static func date(_ civil: Civil) -> Date? {
        guard (1...9999).contains(civil.year), (1...12).contains(civil.month), (1...31).contains(civil.day),
            (0...23).contains(civil.hour), (0...59).contains(civil.minute), (0...60).contains(civil.second)
        else { return nil }
        // Howard Hinnant's days_from_civil.
        let y = civil.month <= 2 ? civil.year - 1 : civil.year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = civil.month > 2 ? civil.month - 3 : civil.month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + civil.day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + civil.hour * 3600 + civil.minute * 60 + civil.second
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// `20150830T123600Z`, the SigV4 `X-Amz-Date` form.
    public static func amzTimestamp(_ date: Date) -> String {
        let c = civil(date)
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + "T" + pad(c.hour, 2) + pad(c.minute, 2)
            + pad(c.second, 2) + "Z"
    }

    /// `20150830`, the SigV4 credential-scope date.
    public static func dateStamp(_ date: Date) -> String {
        let c = civil(date)
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2)
    }

    /// `2015-08-30T12:36:00Z`: ISO 8601 in UTC with a `Z`, to the second (what every SDK's
    /// container-credentials provider accepts as `Expiration`); `2015-08-30T12:36:00.123Z` with
    /// `milliseconds` (log lines).
    public static func iso8601(_ date: Date, milliseconds: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        appendISO8601(date, milliseconds: milliseconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `2015-08-30T12:36:00Z`, or `2015-08-30T12:36:00.123Z` with `milliseconds`, to
    /// `out`: digits written as bytes, nothing allocated but `out`'s growth (the audit log's hot
    /// path).
    public static func appendISO8601(_ date: Date, milliseconds: Bool, to out: inout [UInt8]) {
        let c = civil(date)
        appendDigits(c.year, 4, &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(c.month, 2, &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(c.day, 2, &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(c.hour, 2, &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(c.minute, 2, &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(c.second, 2, &out)
        if milliseconds {
            let since = date.timeIntervalSince1970
            let fraction = since - since.rounded(.down)
            let millis = fraction.isFinite ? Int((fraction * 1000).rounded(.down)) : 0
            out.append(UInt8(ascii: "."))
            appendDigits(min(999, max(0, millis)), 3, &out)
        }
        out.append(UInt8(ascii: "Z"))
    }

    /// `value` (non-negative) in decimal, zero-padded to at least `width` digits.
    private static func appendDigits(_ value: Int, _ width: Int, _ out: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = max(0, value)
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0 && count < buffer.count
            for _ in count..<max(count, width) { out.append(UInt8(ascii: "0")) }
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }

    /// Parses ISO 8601 / RFC 3339 date-times such as `2015-08-30T12:36:00Z`,
    /// `2015-08-30T12:36:00.123Z` or `2015-08-30T14:36:00+02:00`.
    /// - Returns: nil for anything else.
    public static func parseISO8601(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ length: Int) -> Int? {
            guard start + length <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<start + length] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ index: Int, is expected: Character) -> Bool {
            index < bytes.count && bytes[index] == expected.asciiValue
        }
        guard bytes.count >= 20, let year = number(0, 4), byte(4, is: "-"), let month = number(5, 2),
            byte(7, is: "-"), let day = number(8, 2), byte(10, is: "T") || byte(10, is: "t") || byte(10, is: " "),
            let hour = number(11, 2), byte(13, is: ":"), let minute = number(14, 2), byte(16, is: ":"),
            let second = number(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
            second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if byte(index, is: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, let digit = number(index, 1) {
                fraction += Double(digit) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offsetSeconds = 0
        if byte(index, is: "Z") || byte(index, is: "z") {
            index += 1
        } else if byte(index, is: "+") || byte(index, is: "-") {
            let sign = byte(index, is: "-") ? -1 : 1
            guard let offsetHours = number(index + 1, 2), byte(index + 3, is: ":"),
                let offsetMinutes = number(index + 4, 2)
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let civil = Civil(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let parsed = date(civil)?.addingTimeInterval(fraction - TimeInterval(offsetSeconds)), contains(parsed)
        else { return nil }
        return parsed
    }

    /// Parses the IMF-fixdate of an HTTP `Date` header, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    /// - Returns: nil for anything else, a field out of its range included.
    public static func parseHTTPDate(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        // Every number is a few digits, so none can overflow before `date` checks its range.
        func number(_ text: Substring, digits: ClosedRange<Int>) -> Int? {
            guard digits.contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                return nil
            }
            return Int(text)
        }
        guard parts.count == 6, parts[5] == "GMT", let day = number(parts[1], digits: 1...2),
            let monthIndex = months.firstIndex(of: String(parts[2])), let year = number(parts[3], digits: 4...4)
        else { return nil }
        let time = parts[4].split(separator: ":", omittingEmptySubsequences: false).compactMap {
            number($0, digits: 2...2)
        }
        guard time.count == 3 else { return nil }
        return date(
            Civil(year: year, month: monthIndex + 1, day: day, hour: time[0], minute: time[1], second: time[2]))
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        var out: [UInt8] = []
        appendDigits(value, width, &out)
        return String(decoding: out, as: UTF8.self)
    }
}

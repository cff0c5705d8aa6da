import AWSSigning
import Foundation
import Testing

@Suite struct AWSDateTests {
    @Test func formatsTheSigV4AndISOForms() {
        let date = Date(timeIntervalSince1970: 1_440_938_160)
        #expect(AWSDate.amzTimestamp(date) == "20150830T123600Z")
        #expect(AWSDate.dateStamp(date) == "20150830")
        #expect(AWSDate.iso8601(date) == "2015-08-30T12:36:00Z")
    }

    @Test func agreesWithFoundationOverCenturies() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        for seconds in stride(from: -2_208_988_800, through: 4_102_444_800, by: 7_777_777) {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            #expect(AWSDate.iso8601(date) == formatter.string(from: date))
            #expect(AWSDate.parseISO8601(AWSDate.iso8601(date)) == date)
        }
    }

    @Test func appendsMillisecondsWithoutRoundingUp() {
        func text(_ seconds: Double) -> String {
            var out: [UInt8] = []
            AWSDate.appendISO8601(Date(timeIntervalSince1970: seconds), milliseconds: true, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        #expect(text(1_800_000_000) == "2027-01-15T08:00:00.000Z")
        #expect(text(1_800_000_000.5) == "2027-01-15T08:00:00.500Z")
        #expect(text(1_800_000_000.9999) == "2027-01-15T08:00:00.999Z")
        #expect(text(1_440_938_160.042) == "2015-08-30T12:36:00.042Z")
    }

    @Test func parsesFractionsAndOffsets() {
        let base = Date(timeIntervalSince1970: 1_440_938_160)
        #expect(AWSDate.parseISO8601("2015-08-30T12:36:00.500Z") == base.addingTimeInterval(0.5))
        #expect(AWSDate.parseISO8601("2015-08-30T14:36:00+02:00") == base)
        #expect(AWSDate.parseISO8601("2015-08-30T12:36:00") == nil)
        #expect(AWSDate.parseISO8601("2015-13-30T12:36:00Z") == nil)
        #expect(AWSDate.parseISO8601("not a date") == nil)
        #expect(AWSDate.parseHTTPDate("Sun, 30 Aug 2015 12:36:00 GMT") == base)
    }

    /// Upstream-derived dates never trap: out of years 1-9999 they are written as the nearest end,
    /// and a header with enormous fields is no date at all (issue 14, finding 1).
    @Test(arguments: [1e22, -1e22, 1e300, -1e300, .infinity, -.infinity, .nan, 9.3e18, -9.3e18])
    func rendersAnyDateWithoutTrapping(_ seconds: Double) {
        let text = AWSDate.iso8601(Date(timeIntervalSince1970: seconds), milliseconds: true)
        #expect(text == "9999-12-31T23:59:59.000Z" || text == "0001-01-01T00:00:00.000Z", "\(seconds): \(text)")
        #expect(AWSDate.amzTimestamp(Date(timeIntervalSince1970: seconds)).count == 16)
        #expect(!AWSDate.contains(Date(timeIntervalSince1970: seconds)))
    }

    @Test(arguments: [
        "Sun, 06 Nov 9223372036854775807 08:49:37 GMT", "Sun, 9223372036854775807 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 9223372036854775807:49:37 GMT", "Sun, 06 Nov 1994 08:49:-9223372036854775807 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 0000 08:49:37 GMT",
        "Sun, 06 Nov 1994 08::37 GMT", "Sun, +6 Nov 1994 08:49:37 GMT",
    ])
    func refusesHTTPDatesWithFieldsOutOfRange(_ text: String) {
        #expect(AWSDate.parseHTTPDate(text) == nil)
    }

    @Test func refusesCivilFieldsOutOfRange() {
        #expect(AWSDate.date(.init(year: Int.max, month: 1, day: 1, hour: 0, minute: 0, second: 0)) == nil)
        #expect(AWSDate.date(.init(year: 2015, month: 8, day: 30, hour: Int.min, minute: 0, second: 0)) == nil)
        #expect(AWSDate.date(.init(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59)) != nil)
        #expect(AWSDate.parseISO8601("0000-01-01T00:00:00Z") == nil)
        #expect(AWSDate.parseISO8601("9999-12-31T23:59:59-23:59") == nil)
    }
}

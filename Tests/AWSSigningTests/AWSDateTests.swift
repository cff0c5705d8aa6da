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
}

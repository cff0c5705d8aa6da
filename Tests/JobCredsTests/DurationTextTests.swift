import Foundation
import JobCreds
import Testing

@Suite struct DurationTextTests {
    @Test func parsesAndFormats() throws {
        #expect(try DurationText.parse("90s", option: "--x") == .seconds(90))
        #expect(try DurationText.parse("15m", option: "--x") == .seconds(900))
        #expect(try DurationText.parse("1h30m", option: "--x") == .seconds(5400))
        #expect(DurationText.format(.seconds(900)) == "15m")
        #expect(DurationText.format(.seconds(5401)) == "1h30m1s")
        #expect(try DurationText.parse("250ms", option: "--x") == .milliseconds(250))
        #expect(try DurationText.parse("1m5s20ms", option: "--x") == .milliseconds(65020))
        #expect(DurationText.format(.milliseconds(250)) == "250ms")
        #expect(DurationText.format(.milliseconds(1500)) == "1s500ms")
        for bad in ["", "15", "m", "0s", "0ms", "1.5m", "15 m", "-1s", "99999999s", "1d", "5sm", "ms5"] {
            #expect(throws: JobCredsError.self) { try DurationText.parse(bad, option: "--x") }
        }
    }
}

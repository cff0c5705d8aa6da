import CodePipeline
import Foundation
import JobCreds
import Logging
import Synchronization
import Testing

@Suite struct JSONLogHandlerTests {
    @Test func oneEscapedObjectPerLineWithTheMetadata() throws {
        let lines = Mutex<[String]>([])
        var handler = JSONLogHandler(label: "jobcreds", output: { line in lines.withLock { $0.append(line) } })
        handler.logLevel = .info
        let logger = Logger(label: "jobcreds", factory: { _ in handler })
        logger.info("line one\nline \"two\"", metadata: ["listen": "127.0.0.1:9911"])
        logger.debug("below the level")
        let written = lines.withLock { $0 }
        try #require(written.count == 1)
        #expect(!written[0].contains("\n"))
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: String])
        #expect(object["message"] == "line one\nline \"two\"")
        #expect(object["level"] == "info" && object["logger"] == "jobcreds" && object["listen"] == "127.0.0.1:9911")
        #expect(object["time"]?.hasSuffix("Z") == true)
    }
}

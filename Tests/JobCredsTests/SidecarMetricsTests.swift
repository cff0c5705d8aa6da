import CodePipeline
import Foundation
import JobCreds
import Logging
import Synchronization
import Testing

@Suite struct SidecarMetricsTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func countsRequestsByRouteAndStatusAndDenialsByReason() {
        let metrics = SidecarMetrics()
        metrics.request(path: "/v1/credentials", status: 200, denial: nil)
        metrics.request(path: "/v1/credentials", status: 200, denial: nil)
        metrics.request(path: "/v1/credentials", status: 403, denial: "InvalidToken")
        metrics.request(path: "/somewhere", status: 404, denial: "NotFound")
        let text = exposition(metrics, CredentialCache())
        #expect(text.contains(#"jobcreds_requests_total{route="/v1/credentials",status="200"} 2"#))
        #expect(text.contains(#"jobcreds_requests_total{route="/v1/credentials",status="403"} 1"#))
        #expect(text.contains(#"jobcreds_requests_total{route="other",status="404"} 1"#))
        #expect(text.contains(#"jobcreds_requests_denied_total{reason="InvalidToken"} 1"#))
        #expect(text.contains(#"jobcreds_requests_denied_total{reason="NotFound"} 1"#))
    }

    @Test func nothingAClientSendsBecomesALabel() {
        let metrics = SidecarMetrics()
        metrics.request(path: "/v1/\(Samples.canary)", status: 404, denial: "NotFound")
        metrics.request(path: "/v1/credentials", status: 599, denial: "Made-up \(Samples.canary)")
        metrics.upstream(
            UpstreamCall(
                operation: "GetJobDetails\(Samples.canary)", attempt: 1, outcome: "bad outcome \(Samples.canary)",
                latency: .milliseconds(5)))
        let text = exposition(metrics, CredentialCache())
        #expect(!text.contains(Samples.canary))
        #expect(text.contains(#"jobcreds_requests_denied_total{reason="Other"} 1"#))
        #expect(text.contains(#"jobcreds_upstream_calls_total{operation="other",outcome="other"} 1"#))
    }

    @Test func gaugesFollowTheCache() {
        let metrics = SidecarMetrics()
        let cache = CredentialCache()
        #expect(exposition(metrics, cache).contains("jobcreds_ready 0"))
        let details = Samples.details(expiration: now.addingTimeInterval(3600))
        cache.store(CredentialSnapshot(details: details, fetchedAt: now, assumedLifetime: .seconds(900)))
        let serving = exposition(metrics, cache)
        #expect(serving.contains("jobcreds_credentials_expiry_seconds 3600"))
        #expect(serving.contains("jobcreds_ready 1") && serving.contains("jobcreds_job_active 1"))
        #expect(!serving.contains(Samples.canary))
        cache.endJob(reason: "over")
        let ended = exposition(metrics, cache)
        #expect(ended.contains("jobcreds_job_active 0") && ended.contains("jobcreds_credentials_expiry_seconds 0"))
    }

    @Test func upstreamCallsAreCountedWithTheirLatency() {
        let metrics = SidecarMetrics()
        metrics.upstream(
            UpstreamCall(operation: "GetJobDetails", attempt: 1, outcome: "throttled", latency: .milliseconds(30)))
        let text = exposition(metrics, CredentialCache())
        #expect(text.contains(#"jobcreds_upstream_calls_total{operation="GetJobDetails",outcome="throttled"} 1"#))
        #expect(
            text.contains(#"jobcreds_upstream_call_duration_seconds_bucket{operation="GetJobDetails",le="0.05"} 1"#))
        #expect(
            text.contains(#"jobcreds_upstream_call_duration_seconds_bucket{operation="GetJobDetails",le="0.025"} 0"#))
    }

    private func exposition(_ metrics: SidecarMetrics, _ cache: CredentialCache) -> String {
        String(decoding: metrics.exposition(cache: cache, now: now), as: UTF8.self)
    }
}

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

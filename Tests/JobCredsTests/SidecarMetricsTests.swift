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
        metrics.request(path: "/v1/credentials", status: 403, denial: .invalidToken)
        metrics.request(path: "/somewhere", status: 404, denial: .notFound)
        let text = exposition(metrics, CredentialCache())
        #expect(text.contains(#"jobcreds_requests_total{route="/v1/credentials",status="200"} 2"#))
        #expect(text.contains(#"jobcreds_requests_total{route="/v1/credentials",status="403"} 1"#))
        #expect(text.contains(#"jobcreds_requests_total{route="other",status="404"} 1"#))
        #expect(text.contains(#"jobcreds_requests_denied_total{reason="InvalidToken"} 1"#))
        #expect(text.contains(#"jobcreds_requests_denied_total{reason="NotFound"} 1"#))
    }

    /// Every artifact's URL is counted under its route's template, never under the name sent.
    @Test func presignedURLsAreCountedByTemplate() {
        let metrics = SidecarMetrics()
        metrics.request(path: "/v1/artifacts/SourceOutput/download", status: 200, denial: nil)
        metrics.request(path: "/v1/artifacts/\(Samples.canary)/download", status: 404, denial: .artifactNotFound)
        metrics.request(path: "/v1/artifacts/BuildOutput/upload", status: 200, denial: nil)
        metrics.request(path: "/v1/artifacts/{name}/upload", status: 404, denial: .notFound)
        metrics.request(path: "/v1/artifacts/a/b/upload", status: 404, denial: .notFound)
        let text = exposition(metrics, CredentialCache())
        #expect(text.contains(#"jobcreds_requests_total{route="/v1/artifacts/{name}/download",status="200"} 1"#))
        #expect(text.contains(#"jobcreds_requests_total{route="/v1/artifacts/{name}/download",status="404"} 1"#))
        #expect(text.contains(#"jobcreds_requests_total{route="/v1/artifacts/{name}/upload",status="200"} 1"#))
        #expect(text.contains(#"jobcreds_requests_total{route="other",status="404"} 2"#))
        #expect(!text.contains(Samples.canary))
    }

    /// Every served path is its own route; a variable part is counted under its template; a
    /// template sent literally, and anything else, is `other`.
    @Test func pathsMapToRoutes() {
        let cases: [(String, SidecarMetrics.Route)] = [
            ("/v1/credentials", .credentials), ("/v1/artifacts", .artifacts), ("/healthz", .healthz),
            ("/readyz", .readyz), ("/v1/configuration", .configuration),
            ("/latest/api/token", .metadataToken), ("/latest/meta-data/iam/security-credentials/", .metadataRoles),
            ("/latest/meta-data/iam/security-credentials/any-role", .metadataRole),
            ("/latest/meta-data/iam/security-credentials/{role}", .other),
            ("/latest/meta-data/placement/region", .metadataRegion),
            ("/v1/artifacts/In/download", .artifactDownload), ("/v1/artifacts/Out/upload", .artifactUpload),
            ("/v1/artifacts/{name}/download", .other), ("/v1/credentials/", .other), ("/V1/credentials", .other),
            ("", .other),
        ]
        for (path, route) in cases { #expect(SidecarMetrics.Route(path: path) == route, "\(path)") }
    }

    /// A denial code, an operation and an outcome are enums, so no free string can reach a label;
    /// a path is counted under its route. Every label value of a busy exposition is from the
    /// closed sets.
    @Test func nothingAClientSendsBecomesALabel() throws {
        let metrics = SidecarMetrics()
        metrics.request(path: "/v1/\(Samples.canary)", status: 404, denial: .notFound)
        metrics.request(path: "/v1/credentials", status: 599, denial: .credentialsUnavailable)
        for operation in CodePipelineOperation.allCases {
            for outcome in UpstreamCall.Outcome.allCases {
                metrics.upstream(
                    UpstreamCall(operation: operation, attempt: 1, outcome: outcome, latency: .milliseconds(5)))
            }
        }
        let text = exposition(metrics, CredentialCache())
        #expect(!text.contains(Samples.canary))
        #expect(text.contains(#"jobcreds_requests_total{route="other",status="404"} 1"#))
        let closed: [String: Set<String>] = [
            "route": Set(SidecarMetrics.Route.allCases.map(\.rawValue)),
            "reason": Set(DenialCode.allCases.map(\.rawValue)),
            "operation": Set(CodePipelineOperation.allCases.map(\.rawValue)),
            "outcome": Set(UpstreamCall.Outcome.allCases.map(\.rawValue)),
            "status": Set((100...599).map(String.init)), "version": [Version.current],
        ]
        let label = try Regex(#"([a-z_]+)="([^"]*)""#)
        for match in text.matches(of: label) {
            let (name, value) = (String(match.output[1].substring ?? ""), String(match.output[2].substring ?? ""))
            if name == "le" { continue }  // the histogram's bucket bounds
            #expect(closed[name]?.contains(value) == true, "\(name)=\(value)")
        }
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
            UpstreamCall(
                operation: .getJobDetails, attempt: 1, outcome: .failed(.throttled), latency: .milliseconds(30)))
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

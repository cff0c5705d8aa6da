import AWSSigning
import Foundation
import HTTPCore
import JobCreds
import MicroHTTPServer
import TestSupport
import Testing

/// The credentials listener's handler called directly: every status, every audit line, the
/// metrics, and no secret where it must not be.
@Suite struct AuditedLayerTests {
    static let token = Array("the-token".utf8)

    struct Harness {
        let layer: AuditedLayer
        let cache = CredentialCache()
        let sink = MemoryAuditSink()
        let clock = ManualWallClock()
        let metrics = SidecarMetrics()

        init(gate settings: GateSettings = GateSettings()) {
            let metrics = metrics
            layer = AuditedLayer(
                cache: cache,
                tokens: TokenGrants([
                    TokenGrant(label: "token", scopes: TokenScope.unscoped, token: AuditedLayerTests.token)
                ]),
                audit: AuditLog(sink: sink, clock: clock, jobId: "job", onWriteFailure: metrics.auditWriteFailed),
                metrics: metrics, clock: clock)
            layer.install(
                RequestGate(host: "127.0.0.1", port: 9911, settings: settings, uptime: MonotonicClock { .zero }))
        }

        func fill() {
            cache.store(
                CredentialSnapshot(details: Samples.details(), fetchedAt: clock.now, assumedLifetime: .seconds(900)))
        }

        func ask(
            _ path: String, method: String = "GET", token: String? = "the-token", userAgent: String? = nil
        )
            -> (ServerResponse, [String: Any])
        {
            var headers: HTTPHeaders = [("Host", "127.0.0.1:9911")]
            if let token { headers.append("Authorization", token) }
            if let userAgent { headers.append("User-Agent", userAgent) }
            let response = layer.respond(to: ServerRequest(method: method, path: path, headers: headers))
            let line =
                sink.all.last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any]
            return (response, line ?? [:])
        }
    }

    static func json(_ response: ServerResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    @Test func servesCredentialsAndAuditsTheKeyIdButNotTheSecret() throws {
        let h = Harness()
        h.fill()
        let (response, audit) = h.ask("/v1/credentials", userAgent: "tool\"\u{1b}[31m")
        #expect(response.status == 200)
        let body = Self.json(response)
        #expect(body["AccessKeyId"] as? String == "ASIAARTIFACT")
        #expect(body["SecretAccessKey"] as? String == "secret-\(Samples.canary)")
        #expect(body["Code"] == nil)
        #expect(audit["access_key_id"] as? String == "ASIAARTIFACT")
        #expect(audit["decision"] as? String == "allow" && audit["status"] as? Int == 200)
        #expect(audit["user_agent"] as? String == "tool\"\u{1b}[31m")
        #expect(response.headers.contains { $0.name == "Cache-Control" && $0.value == "no-store" })
        #expect(h.sink.all.allSatisfy { !$0.contains(Samples.canary) && !$0.contains("the-token") })
    }

    @Test(
        arguments: [
            ("/v1/credentials", "GET", nil, 401, "MissingToken"),
            ("/v1/credentials", "GET", "the-tokem", 403, "InvalidToken"),
            ("/v1/credentials", "GET", "the-token ", 403, "InvalidToken"),
            ("/v1/credentials", "GET", "Bearer the-token", 403, "InvalidToken"),
            ("/v1/nope", "GET", "the-token", 404, "NotFound"),
            ("/v1/nope", "GET", nil, 401, "MissingToken"),
            ("/v1/credentials", "POST", "the-token", 405, "MethodNotAllowed"),
            ("/healthz", "PUT", nil, 405, "MethodNotAllowed"),
        ] as [(String, String, String?, Int, String)])
    func deniesWithJSONErrorsAndAuditsTheDenial(
        _ path: String, _ method: String, _ token: String?, _ status: Int, _ code: String
    ) {
        let h = Harness()
        h.fill()
        let (response, audit) = h.ask(path, method: method, token: token)
        #expect(response.status == status)
        #expect(Self.json(response)["code"] as? String == code)
        #expect(Set(Self.json(response).keys) == ["code", "message"])
        #expect(audit["decision"] as? String == "deny" && audit["reason"] as? String == code)
        #expect(audit["status"] as? Int == status)
    }

    @Test func unavailableBeforeTheFirstFetchAndGoneAfterTheJob() {
        let h = Harness()
        let (early, _) = h.ask("/v1/credentials")
        #expect(early.status == 503 && Self.json(early)["code"] as? String == "CredentialsUnavailable")
        #expect(early.headers.contains { $0.name == "Retry-After" })
        #expect(h.ask("/readyz", token: nil).0.status == 503)
        #expect(h.ask("/healthz", token: nil).0.status == 200)
        h.fill()
        #expect(h.ask("/readyz", token: nil).0.status == 200)
        h.cache.endJob(reason: "gone")
        #expect(h.ask("/v1/credentials").0.status == 410)
        #expect(Self.json(h.ask("/readyz", token: nil).0)["code"] as? String == "JobEnded")
    }

    @Test func nothingIsHandedOutWhenTheAuditLogCannotBeWritten() {
        let h = Harness()
        h.fill()
        h.sink.fail()
        let (response, _) = h.ask("/v1/credentials")
        #expect(response.status == 503)
        #expect(!String(decoding: response.body, as: UTF8.self).contains(Samples.canary))
        #expect(h.ask("/healthz", token: nil).0.status == 200)
        let metrics = String(decoding: h.metrics.exposition(cache: h.cache, now: h.clock.now), as: UTF8.self)
        #expect(metrics.contains("jobcreds_audit_write_failures_total 2"))
        #expect(metrics.contains(#"jobcreds_requests_total{route="/v1/credentials",status="503"} 1"#))
    }

    @Test func tokenRotation() {
        let h = Harness()
        h.fill()
        h.layer.replaceTokens(
            TokenGrants([TokenGrant(label: "token", scopes: TokenScope.unscoped, token: Array("new".utf8))]))
        #expect(h.ask("/v1/credentials").0.status == 403)
        #expect(h.ask("/v1/credentials", token: "new").0.status == 200)
    }

    @Test func artifactsCarryLocationsButNoSecret() {
        let h = Harness()
        h.fill()
        let (response, _) = h.ask("/v1/artifacts")
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(response.status == 200)
        #expect(text.contains("\"uri\":\"s3://b/in/src.zip\""))
        #expect(text.contains(#""key":"out/\"q\".zip""#))
        #expect(!text.contains(Samples.canary))
    }

    /// A tool with the token is never throttled, however fast it asks; refusals from the same
    /// address are, and are audited as such.
    @Test func onlyRefusalsAreRateLimited() {
        var settings = GateSettings()
        settings.ratePerSecond = 10
        settings.burst = 20
        let h = Harness(gate: settings)
        h.fill()
        #expect((0..<500).allSatisfy { _ in h.ask("/v1/credentials").0.status == 200 })
        let refused = (0..<25).map { _ in h.ask("/v1/credentials", token: "wrong").0.status }
        #expect(refused == Array(repeating: 403, count: 20) + Array(repeating: 429, count: 5))
        let (limited, audit) = h.ask("/v1/credentials", token: nil)
        #expect(limited.status == 429 && limited.headers["Retry-After"] == "1")
        #expect(audit["reason"] as? String == "RateLimited" && audit["decision"] as? String == "deny")
        #expect(h.ask("/v1/credentials").0.status == 200)
        #expect(h.ask("/healthz", token: nil).0.status == 200)
    }
}

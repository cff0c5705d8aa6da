import Foundation
import HTTPCore
import JobCreds
import MicroHTTPServer
import Testing

/// The pure router on its own: a request, what the cache holds and the token in; an answer and a
/// decision out. No audit sink, no metrics registry, no clock.
@Suite struct SidecarRouterTests {
    let router = SidecarRouter()
    let tokens = TokenGrants([
        TokenGrant(label: "token", scopes: TokenScope.unscoped, token: Array("the-token".utf8)),
        TokenGrant(label: "locations", scopes: [.artifacts], token: Array("artifacts-only".utf8)),
    ])
    let snapshot = CredentialSnapshot(
        details: Samples.details(), fetchedAt: Date(timeIntervalSince1970: 1_764_000_000),
        assumedLifetime: .seconds(900))

    func route(
        _ path: String, method: String = "GET", token presented: String? = "the-token",
        credentials: CredentialCache.Lookup? = nil
    ) -> Routed {
        var headers: HTTPHeaders = [("Host", "127.0.0.1:9911")]
        if let presented { headers.append("Authorization", presented) }
        return router.route(
            ServerRequest(method: method, path: path, headers: headers), credentials: credentials ?? .serve(snapshot),
            tokens: tokens)
    }

    func body(_ routed: Routed) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(routed.response.body))) as? [String: Any] ?? [:]
    }

    @Test func credentialsAreServedWithTheKeyIdAndExpirationInTheDecision() {
        for method in ["GET", "HEAD"] {
            let routed = route("/v1/credentials", method: method)
            #expect(routed.response.status == 200)
            #expect(body(routed)["SecretAccessKey"] as? String == "secret-\(Samples.canary)")
            #expect(
                routed.decision
                    == Decision(
                        .served(.credentials), accessKeyId: "ASIAARTIFACT", expiration: snapshot.expiresAt,
                        token: "token"))
            #expect(routed.response.headers["Content-Type"] == "application/json")
            #expect(routed.response.headers["Cache-Control"] == "no-store")
        }
    }

    @Test func artifactsCarryNoSecretAndNoKeyInTheDecision() {
        let routed = route("/v1/artifacts")
        #expect(routed.response.status == 200 && routed.decision == Decision(.served(.artifacts), token: "token"))
        #expect(!String(decoding: routed.response.body, as: UTF8.self).contains(Samples.canary))
    }

    @Test(
        arguments: [
            ("/v1/credentials", "GET", nil, 401, DenialCode.missingToken),
            ("/v1/credentials", "GET", "the-tokem", 403, .invalidToken),
            ("/v1/credentials", "GET", "the-token ", 403, .invalidToken),
            ("/v1/artifacts", "GET", "", 403, .invalidToken),
            ("/v1/nope", "GET", "the-token", 404, .notFound),
            ("/v1/nope", "GET", nil, 401, .missingToken),
            ("/v1/credentials", "POST", "the-token", 405, .methodNotAllowed),
            ("/healthz", "PUT", nil, 405, .methodNotAllowed),
            ("/readyz", "DELETE", nil, 405, .methodNotAllowed),
        ] as [(String, String, String?, Int, DenialCode)])
    func refusalsAreJSONErrorsWhoseCodeIsTheDecision(
        _ path: String, _ method: String, _ token: String?, _ status: Int, _ code: DenialCode
    ) {
        let routed = route(path, method: method, token: token)
        #expect(routed.response.status == status)
        #expect(routed.decision.outcome == .refused(code))
        #expect(Set(body(routed).keys) == ["code", "message"])
        #expect(body(routed)["code"] as? String == code.rawValue)
        #expect(!String(decoding: routed.response.body, as: UTF8.self).contains(Samples.canary))
    }

    @Test func onlyGETAndHEADAreAllowed() {
        let routed = route("/v1/credentials", method: "OPTIONS")
        #expect(routed.response.headers["Allow"] == "GET, HEAD")
    }

    @Test func whatTheCacheHoldsDecidesTheAnswer() {
        let early = route("/v1/credentials", credentials: .unavailable(reason: "not yet"))
        #expect(early.response.status == 503 && early.decision.outcome == .refused(.credentialsUnavailable))
        #expect(early.response.headers["Retry-After"] == "1")
        #expect(body(early)["message"] as? String == "not yet")
        let gone = route("/v1/artifacts", credentials: .jobEnded)
        #expect(gone.response.status == 410 && gone.decision.outcome == .refused(.jobEnded))
    }

    @Test func healthAndReadinessNeedNoTokenAndAreNotRefusals() {
        #expect(route("/healthz", token: nil).decision == Decision(.served(.ok)))
        #expect(route("/healthz", token: nil, credentials: .jobEnded).response.status == 200)
        #expect(route("/readyz", token: nil).decision == Decision(.served(.ready)))
        let notReady = route("/readyz", token: nil, credentials: .unavailable(reason: "later"))
        #expect(notReady.response.status == 503 && notReady.decision == Decision(.served(.notReady)))
        #expect(body(notReady)["code"] as? String == "NotReady")
        let ended = route("/readyz", token: "wrong", credentials: .jobEnded)
        #expect(ended.response.status == 503 && ended.decision == Decision(.served(.jobEnded)))
        #expect(body(ended)["code"] as? String == "JobEnded")
    }

    /// The same inputs give the same answer: nothing is remembered between calls.
    @Test func aPureFunction() {
        for path in ["/v1/credentials", "/v1/artifacts", "/readyz", "/nope"] {
            let first = route(path)
            let second = route(path)
            #expect(first.response.status == second.response.status && first.response.body == second.response.body)
            #expect(first.decision == second.decision)
        }
    }

    /// Every scope against every route: a token gets what its scopes name and 403
    /// `ScopeNotGranted` elsewhere; the decision names the token by its label.
    @Test(arguments: TokenScope.allCases)
    func aTokenReachesTheRoutesOfItsScopesOnly(_ granted: TokenScope) {
        let tokens = TokenGrants([TokenGrant(label: "scoped", scopes: [granted], token: Array("scoped-token".utf8))])
        let routes: [(String, TokenScope)] = [("/v1/credentials", .credentials), ("/v1/artifacts", .artifacts)]
        for (path, needed) in routes {
            let routed = router.route(
                ServerRequest(
                    method: "GET", path: path, headers: [("Host", "127.0.0.1:9911"), ("Authorization", "scoped-token")]),
                credentials: .serve(snapshot), tokens: tokens)
            if granted == needed {
                #expect(routed.response.status == 200, "\(granted) on \(path)")
                #expect(routed.decision.denial == nil && routed.decision.token == "scoped")
            } else {
                #expect(routed.response.status == 403, "\(granted) on \(path)")
                #expect(routed.decision.outcome == .refused(.scopeNotGranted) && routed.decision.token == "scoped")
                #expect(!String(decoding: routed.response.body, as: UTF8.self).contains("scoped-token"))
            }
        }
    }

    @Test func theFirstMatchingTokenDecidesAndItsLabelIsAudited() {
        let routed = route("/v1/credentials", token: "artifacts-only")
        #expect(routed.response.status == 403 && routed.decision.token == "locations")
        #expect(
            route("/v1/artifacts", token: "artifacts-only").decision
                == Decision(.served(.artifacts), token: "locations"))
        #expect(route("/v1/artifacts", token: "artifacts-onlyx").decision.token == nil)
    }
}

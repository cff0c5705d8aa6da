import AWSSigning
import CodePipeline
import Foundation
import HTTPCore
import JobCreds
import MicroHTTPServer
import Testing

/// The pure router on its own: a request, what the cache holds and the token in; an answer and a
/// decision out. No audit sink, no metrics registry, no clock.
@Suite struct SidecarRouterTests {
    let router = SidecarRouter(settings: RoutingSettings(s3: S3Endpoint(region: "us-east-1")))
    let tokens = TokenGrants([
        TokenGrant(label: "token", scopes: TokenScope.unscoped, token: Array("the-token".utf8)),
        TokenGrant(label: "locations", scopes: [.artifacts], token: Array("artifacts-only".utf8)),
    ])
    let snapshot = CredentialSnapshot(
        details: Samples.details(), fetchedAt: Date(timeIntervalSince1970: 1_764_000_000),
        assumedLifetime: .seconds(900),
        configuration: .available(
            actionTypeId: ActionTypeID(category: "Build", owner: "Custom", provider: "P", version: "1"),
            shown: ["ProjectName": "p"], withheld: ["ApiKey"]))

    func route(
        _ path: String, method: String = "GET", token presented: String? = "the-token",
        query: [QueryItem] = [], credentials: CredentialCache.Lookup? = nil, tokens: TokenGrants? = nil,
        router: SidecarRouter? = nil, now: Date? = nil
    ) -> Routed {
        var headers: HTTPHeaders = [("Host", "127.0.0.1:9911")]
        if let presented { headers.append("Authorization", presented) }
        return (router ?? self.router).route(
            ServerRequest(method: method, path: path, headers: headers, query: query),
            context: RouteContext(
                credentials: credentials ?? .serve(snapshot), tokens: tokens ?? self.tokens,
                now: now ?? snapshot.fetchedAt.addingTimeInterval(10.4)))
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
        let routes: [(String, TokenScope)] = [
            ("/v1/credentials", .credentials), ("/v1/artifacts", .artifacts), ("/v1/artifacts/src/download", .download),
            ("/v1/artifacts/out/upload", .upload), ("/v1/configuration", .configuration),
        ]
        for (path, needed) in routes {
            let routed = route(path, token: "scoped-token", tokens: tokens)
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

    // MARK: - Presigned artifact URLs

    var everything: TokenGrants {
        TokenGrants([TokenGrant(label: "all", scopes: Set(TokenScope.allCases), token: Array("the-token".utf8))])
    }

    @Test func aDownloadURLIsForExactlyTheInputObjectAndNamesItInTheDecision() throws {
        let routed = route("/v1/artifacts/src/download", tokens: everything)
        #expect(routed.response.status == 200)
        let answer = body(routed)
        #expect(answer["method"] as? String == "GET")
        #expect(answer["headers"] as? [String: String] == [:])
        #expect(answer["expiration"] as? String == AWSDate.iso8601(snapshot.fetchedAt.addingTimeInterval(310)))
        let url = try #require(answer["url"] as? String)
        // A one-letter bucket cannot be a host name: path style on the region's endpoint.
        #expect(url.hasPrefix("https://s3.us-east-1.amazonaws.com/b/in/src.zip?X-Amz-Algorithm=AWS4-HMAC-SHA256&"))
        #expect(url.contains("&X-Amz-Expires=300&X-Amz-SignedHeaders=host&"))
        #expect(url.contains("X-Amz-Credential=ASIAARTIFACT%2F"))
        #expect(
            routed.decision
                == Decision(
                    .served(.downloadURL), accessKeyId: "ASIAARTIFACT",
                    expiration: snapshot.fetchedAt.addingTimeInterval(310), token: "all",
                    issued: Decision.IssuedURL(artifact: "src", method: "GET", bucket: "b", key: "in/src.zip")))
    }

    @Test func anUploadURLSignsTheKMSHeadersAndTheBytesWhenAsked() throws {
        let plain = body(route("/v1/artifacts/out/upload", tokens: everything))
        #expect(plain["method"] as? String == "PUT")
        #expect(
            plain["headers"] as? [String: String] == [
                "x-amz-server-side-encryption": "aws:kms",
                "x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:1:key/k",
            ])
        let url = try #require(plain["url"] as? String)
        #expect(url.hasPrefix("https://s3.us-east-1.amazonaws.com/b/out/%22q%22.zip?"))
        let hex = String(repeating: "ab", count: 32)
        let bound = route(
            "/v1/artifacts/out/upload",
            query: [QueryItem(name: "sha256", value: hex), QueryItem(name: "length", value: "12")],
            tokens: everything)
        #expect(bound.response.status == 200)
        let headers = try #require(body(bound)["headers"] as? [String: String])
        #expect(headers["x-amz-checksum-sha256"] == Data([UInt8](repeating: 0xAB, count: 32)).base64EncodedString())
        #expect(headers["content-length"] == "12")
        #expect(
            (body(bound)["url"] as? String)?.contains(
                "X-Amz-SignedHeaders=content-length%3Bhost%3Bx-amz-checksum-sha256%3Bx-amz-server-side-encryption%3B")
                == true)
    }

    /// A name is matched as sent: no decoding, no case folding, no path resolution; an input is
    /// not an output.
    @Test(
        arguments: [
            ("/v1/artifacts/out/download", DenialCode.artifactNotFound),
            ("/v1/artifacts/src/upload", .artifactNotFound),
            ("/v1/artifacts/SRC/download", .artifactNotFound),
            ("/v1/artifacts/%73rc/download", .artifactNotFound),
            ("/v1/artifacts/src%2F/download", .artifactNotFound),
            ("/v1/artifacts/./download", .artifactNotFound),
            ("/v1/artifacts/src /download", .artifactNotFound),
            ("/v1/artifacts/src/../src/download", .notFound),
            ("/v1/artifacts/src/download/", .notFound),
            ("/v1/artifacts//download", .notFound),
            ("/v1/artifacts/src/Download", .notFound),
            ("/v1/artifacts/src", .notFound),
        ])
    func namesAreMatchedExactly(_ path: String, _ code: DenialCode) {
        let routed = route(path, tokens: everything)
        #expect(routed.response.status == 404, "\(path)")
        #expect(routed.decision.outcome == .refused(code) && routed.decision.issued == nil, "\(path)")
        #expect(!String(decoding: routed.response.body, as: UTF8.self).contains("X-Amz"))
    }

    @Test(
        arguments: [
            ("download", [("sha256", String(repeating: "0", count: 64)), ("length", "1")]),
            ("download", [("x", "1")]),
            ("upload", [("sha256", String(repeating: "0", count: 64))]),
            ("upload", [("length", "1")]),
            ("upload", [("sha256", String(repeating: "0", count: 63)), ("length", "1")]),
            ("upload", [("sha256", String(repeating: "g", count: 64)), ("length", "1")]),
            ("upload", [("sha256", String(repeating: "0", count: 64)), ("length", "-1")]),
            ("upload", [("sha256", String(repeating: "0", count: 64)), ("length", "+1")]),
            ("upload", [("sha256", String(repeating: "0", count: 64)), ("length", "99999999999")]),
            ("upload", [("sha256", String(repeating: "0", count: 64)), ("length", "5368709121")]),
            ("upload", [("sha256", String(repeating: "0", count: 64)), ("length", "1"), ("length", "1")]),
            ("upload", [("sha256", String(repeating: "0", count: 64)), ("length", "1"), ("acl", "public-read")]),
        ])
    func aMalformedBindingIsRefusedWithNoURL(_ direction: String, _ query: [(String, String)]) {
        let routed = route(
            "/v1/artifacts/\(direction == "download" ? "src" : "out")/\(direction)",
            query: query.map { QueryItem(name: $0.0, value: $0.1) }, tokens: everything)
        #expect(routed.response.status == 400 && routed.decision.outcome == .refused(.invalidQuery))
        #expect(routed.decision.issued == nil && routed.decision.accessKeyId == nil)
    }

    @Test func theURLEndsAtTheTTLOrAMinuteBeforeItsCredentialsWhicheverIsFirst() {
        let now = snapshot.fetchedAt.addingTimeInterval(10)
        func expiration(ttl: Duration, credentialsLeft: TimeInterval) -> Routed {
            let expiring = CredentialSnapshot(
                details: Samples.details(expiration: now.addingTimeInterval(credentialsLeft)),
                fetchedAt: snapshot.fetchedAt, assumedLifetime: .seconds(900))
            let router = SidecarRouter(
                settings: RoutingSettings(presignLifetime: ttl, s3: S3Endpoint(region: "us-east-1")))
            return route(
                "/v1/artifacts/src/download", credentials: .serve(expiring), tokens: everything, router: router,
                now: now)
        }
        #expect(expiration(ttl: .seconds(300), credentialsLeft: 3600).decision.expiration == now + 300)
        #expect(expiration(ttl: .seconds(30), credentialsLeft: 3600).decision.expiration == now + 30)
        #expect(expiration(ttl: .seconds(300), credentialsLeft: 200).decision.expiration == now + 140)
        let late = expiration(ttl: .seconds(300), credentialsLeft: 60.5)
        #expect(late.response.status == 503 && late.decision.outcome == .refused(.credentialsUnavailable))
    }

    @Test func withoutCredentialsThereIsNoURL() {
        let early = route("/v1/artifacts/src/download", credentials: .unavailable(reason: "soon"), tokens: everything)
        #expect(early.response.status == 503 && early.decision.issued == nil)
        let gone = route("/v1/artifacts/out/upload", credentials: .jobEnded, tokens: everything)
        #expect(gone.response.status == 410 && gone.decision.issued == nil)
    }

    // MARK: - Configuration

    @Test func theConfigurationIsServedAsRendered() {
        let routed = route("/v1/configuration", tokens: everything)
        #expect(routed.response.status == 200 && routed.decision == Decision(.served(.configuration), token: "all"))
        #expect(routed.response.body == snapshot.configurationBody && !snapshot.configurationBody.isEmpty)
        #expect(routed.response.headers["Cache-Control"] == "no-store")
    }

    @Test func withoutTheFlagOrTheDeclarationNoConfigurationIsServed() {
        func snapshot(_ configuration: ConfigurationAnswer) -> CredentialCache.Lookup {
            .serve(
                CredentialSnapshot(
                    details: Samples.details(), fetchedAt: self.snapshot.fetchedAt, assumedLifetime: .seconds(900),
                    configuration: configuration))
        }
        let off = route("/v1/configuration", credentials: snapshot(.notExposed), tokens: everything)
        #expect(off.response.status == 404 && off.decision.outcome == .refused(.notFound))
        #expect(String(decoding: off.response.body, as: UTF8.self).contains("--expose-configuration"))
        let denied = route(
            "/v1/configuration", credentials: snapshot(.unavailable(reason: "ListActionTypes failed (accessDenied)")),
            tokens: everything)
        #expect(denied.response.status == 503 && denied.decision.outcome == .refused(.configurationUnavailable))
        #expect(
            body(denied)["message"] as? String
                == "no configuration value is shown: ListActionTypes failed (accessDenied)")
        let early = route("/v1/configuration", credentials: .unavailable(reason: "soon"), tokens: everything)
        #expect(early.response.status == 503 && early.decision.outcome == .refused(.credentialsUnavailable))
    }
}

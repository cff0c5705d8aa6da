import Foundation
import HTTPCore
import JobCreds
import MicroHTTPServer
import Testing

/// The instance-metadata router on its own: no audit sink, no registry, no clock.
@Suite struct MetadataRouterTests {
    let sessions = MetadataSessions()
    let snapshot = CredentialSnapshot(
        details: Samples.details(), fetchedAt: Date(timeIntervalSince1970: 1_764_000_000),
        assumedLifetime: .seconds(900))

    func route(
        _ path: String, method: String = "GET", headers: HTTPHeaders = [],
        credentials: CredentialCache.Lookup? = nil
    ) -> Routed {
        MetadataRouter(sessions: sessions, region: "eu-west-1").route(
            ServerRequest(method: method, path: path, headers: headers),
            context: RouteContext(credentials: credentials ?? .serve(snapshot), tokens: TokenGrants([]), now: Date()))
    }

    func session() throws -> String {
        let routed = route(
            "/latest/api/token", method: "PUT", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "60")])
        try #require(routed.response.status == 200 && routed.decision == Decision(.served(.metadataToken)))
        #expect(routed.response.headers["X-aws-ec2-metadata-token-ttl-seconds"] == "60")
        return String(decoding: routed.response.body, as: UTF8.self)
    }

    @Test func theRoleHoldsTheCredentialsDocument() throws {
        let token = try session()
        let roles = route("/latest/meta-data/iam/security-credentials/", headers: [("X-aws-ec2-metadata-token", token)])
        #expect(String(decoding: roles.response.body, as: UTF8.self) == MetadataRouter.roleName)
        let document = route(
            "/latest/meta-data/iam/security-credentials/\(MetadataRouter.roleName)",
            headers: [("x-aws-ec2-metadata-token", token)])
        let fields = try #require(
            try JSONSerialization.jsonObject(with: Data(document.response.body)) as? [String: String])
        #expect(fields["SecretAccessKey"] == "secret-\(Samples.canary)" && fields["Code"] == "Success")
        #expect(fields["Expiration"] == "2025-11-24T16:15:00Z" && fields["LastUpdated"] == "2025-11-24T16:00:00Z")
        #expect(
            document.decision
                == Decision(.served(.credentials), accessKeyId: "ASIAARTIFACT", expiration: snapshot.expiresAt))
        let region = route("/latest/meta-data/placement/region", headers: [("X-aws-ec2-metadata-token", token)])
        #expect(String(decoding: region.response.body, as: UTF8.self) == "eu-west-1")
    }

    @Test func refusals() throws {
        let token = try session()
        let withToken: HTTPHeaders = [("X-aws-ec2-metadata-token", token)]
        let role = "/latest/meta-data/iam/security-credentials/\(MetadataRouter.roleName)"
        let cases: [(Routed, Int, DenialCode)] = [
            (route(role), 401, .missingToken),
            (route(role, headers: [("X-aws-ec2-metadata-token", "nope")]), 401, .invalidToken),
            (route("/latest/api/token", method: "PUT"), 400, .invalidTokenTTL),
            (route("/latest/api/token", method: "GET", headers: withToken), 405, .methodNotAllowed),
            (route(role, method: "PUT", headers: withToken), 405, .methodNotAllowed),
            (route("/latest/meta-data/iam/security-credentials/other", headers: withToken), 404, .notFound),
            (route(role, headers: withToken, credentials: .unavailable(reason: "soon")), 503, .credentialsUnavailable),
            (route(role, headers: withToken, credentials: .jobEnded), 410, .jobEnded),
        ]
        for (routed, status, code) in cases {
            #expect(routed.response.status == status && routed.decision == Decision(.refused(code)), "\(code)")
            #expect(!String(decoding: routed.response.body, as: UTF8.self).contains(Samples.canary))
        }
    }
}

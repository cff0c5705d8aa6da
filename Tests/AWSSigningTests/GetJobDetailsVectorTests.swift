import AWSSigning
import Foundation
import TestSupport
import Testing

/// The signed GetJobDetails vector (Tests/Fixtures/codepipeline-getjobdetails-sigv4-vector.txt):
/// the exact request jobcreds sends, with and without a session token.
@Suite struct GetJobDetailsVectorTests {
    struct Vector {
        var sessionToken: String?
        var body: String
        var canonicalRequest: String
        var stringToSign: String
        var authorization: String
    }

    static func vectors() throws -> [Vector] {
        let text = try Fixtures.text("codepipeline-getjobdetails-sigv4-vector.txt")
        return try text.components(separatedBy: "#### session token: ").dropFirst().map { block in
            func section(_ name: String) throws -> String {
                let start = try #require(block.range(of: "--- \(name):\n"))
                let rest = block[start.upperBound...]
                let end = rest.range(of: "\n--- ")?.lowerBound ?? rest.endIndex
                return String(rest[..<end]).trimmingCharacters(in: .newlines)
            }
            let token = String(block.prefix { $0 != "\n" })
            let headers = try section("headers")
            let authorization = try #require(
                headers.split(separator: "\n").first { $0.hasPrefix("Authorization: ") }
            ).dropFirst("Authorization: ".count)
            return Vector(
                sessionToken: token == "None" ? nil : token, body: try section("body"),
                canonicalRequest: try section("canonical request"), stringToSign: try section("string to sign"),
                authorization: String(authorization))
        }
    }

    @Test func bothVariantsMatch() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count == 2)
        for vector in vectors {
            let signer = SigV4Signer(
                credentials: Credentials(
                    accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                    sessionToken: vector.sessionToken),
                region: "us-east-1", service: "codepipeline")
            let signed = signer.sign(
                SigV4Signer.Request(
                    method: "POST", path: "/",
                    headers: [
                        ("X-Amz-Target", "CodePipeline_20150709.GetJobDetails"),
                        ("Content-Type", "application/x-amz-json-1.1"),
                        ("Host", "codepipeline.us-east-1.amazonaws.com"),
                    ], body: Array(vector.body.utf8)),
                at: Date(timeIntervalSince1970: 1_440_938_160))
            #expect(signed.canonicalRequest == vector.canonicalRequest)
            #expect(signed.stringToSign == vector.stringToSign)
            #expect(signed.authorization == vector.authorization)
        }
    }
}

import AWSSigning
import Foundation
import HTTPCore
import TestSupport
import Testing

/// Every case of the official AWS SigV4 test suite (Tests/Fixtures/aws-sig-v4-test-suite, Apache-2.0),
/// checked stage by stage: canonical request, string to sign, Authorization header.
@Suite struct SigV4SuiteTests {
    static let suite = Fixtures.url("aws-sig-v4-test-suite")

    /// Every folder holding a `.req` file: 34 cases.
    static let cases: [String] = {
        let enumerator = FileManager.default.enumerator(at: suite, includingPropertiesForKeys: nil)
        var names: [String] = []
        while let url = enumerator?.nextObject() as? URL {
            if url.pathExtension == "req" {
                names.append(url.deletingLastPathComponent().path.replacingOccurrences(of: suite.path + "/", with: ""))
            }
        }
        return names.sorted()
    }()

    static let credentials = Credentials(
        accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    @Test func theSuiteHasAll34Cases() {
        #expect(Self.cases.count == 34)
    }

    @Test(arguments: cases)
    func signsLikeTheSuite(_ name: String) throws {
        let base = Self.suite.appendingPathComponent(name).appendingPathComponent((name as NSString).lastPathComponent)
        func read(_ ext: String) throws -> String {
            try String(contentsOf: base.appendingPathExtension(ext), encoding: .utf8)
        }
        let request = try SuiteRequest(parsing: read("req"))
        var credentials = Self.credentials
        var signsToken = true
        switch name {
        case "get-vanilla-with-session-token":
            credentials = Credentials(
                accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey,
                sessionToken: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267")
        case "post-sts-token/post-sts-header-after":
            // The token is added after signing: the suite's readme documents both placements.
            credentials = Credentials(
                accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey,
                sessionToken: try stsToken(read("sreq")))
            signsToken = false
        default: break
        }
        let signer = SigV4Signer(
            credentials: credentials, region: "us-east-1", service: "service", signsSessionToken: signsToken)
        let signed = signer.sign(request.signingRequest, at: Self.date)

        #expect(signed.canonicalRequest == (try read("creq")), "canonical request")
        #expect(signed.stringToSign == (try read("sts")), "string to sign")
        #expect(signed.authorization == (try read("authz")), "Authorization header")
        if name == "post-sts-token/post-sts-header-after" {
            #expect(
                signed.headers.contains { $0.name == "X-Amz-Security-Token" && $0.value == credentials.sessionToken })
        }
    }

    /// The suite's `get-vanilla-with-session-token.sreq` carries a stale signature (its `.authz`,
    /// `.sts` and `.creq` agree with each other and with this signer); the `.authz` is the reference.
    @Test func sessionTokenCaseFollowsAuthzNotTheStaleSreq() throws {
        let dir = Self.suite.appendingPathComponent("get-vanilla-with-session-token")
        let authz = try String(
            contentsOf: dir.appendingPathComponent("get-vanilla-with-session-token.authz"), encoding: .utf8)
        let sreq = try String(
            contentsOf: dir.appendingPathComponent("get-vanilla-with-session-token.sreq"), encoding: .utf8)
        #expect(!sreq.contains(authz))
    }

    private func stsToken(_ sreq: String) throws -> String {
        let line = try #require(sreq.split(separator: "\n").first { $0.hasPrefix("X-Amz-Security-Token:") })
        return String(line.dropFirst("X-Amz-Security-Token:".count))
    }
}

/// A `.req` file of the suite: `METHOD PATH HTTP/1.1`, headers (continuation lines start with
/// white space), a blank line, the body. The path may contain spaces.
struct SuiteRequest {
    var method: String
    var path: String
    var query: String
    var headers: [HTTPHeaders.Field] = []
    var body: String = ""

    init(parsing text: String) throws {
        let parts = text.components(separatedBy: "\n\n")
        let head = parts[0].components(separatedBy: "\n")
        body = parts.dropFirst().joined(separator: "\n\n")
        let requestLine = head[0]
        let firstSpace = try #require(requestLine.firstIndex(of: " "))
        let protocolStart = try #require(requestLine.range(of: " HTTP/", options: .backwards))
        method = String(requestLine[..<firstSpace])
        let target = String(requestLine[requestLine.index(after: firstSpace)..<protocolStart.lowerBound])
        if let question = target.firstIndex(of: "?") {
            path = String(target[..<question])
            query = String(target[target.index(after: question)...])
        } else {
            path = target
            query = ""
        }
        for line in head.dropFirst() {
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
    }

    var signingRequest: SigV4Signer.Request {
        SigV4Signer.Request(
            method: method, path: path, query: query, headers: HTTPHeaders(headers), body: Array(body.utf8))
    }
}

import AWSIdentity
import AWSSigning
import Foundation
import HTTPTransport
import TestSupport
import Testing

/// Each provider of the chain against a scripted endpoint (the real libcurl path is covered by
/// IntegrationTests against IntegrationTests/fake_aws.py).
@Suite struct ProviderTests {
    static let canary = "CANARY-7f3a9c"
    static let now = Date(timeIntervalSince1970: 1_764_000_000)
    static let noRetry = RetryPolicy(maxAttempts: 1)

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("jobcreds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func resolve(
        _ environment: [String: String], transport: any HTTPTransport = unreachable
    )
        throws -> any CredentialProvider
    {
        try CredentialChain.resolve(
            environment: environment, region: "us-east-1", transport: transport, retry: noRetry, now: now)
    }

    static let unreachable = ClosureTransport { _ throws(HTTPTransportError) in
        throw HTTPTransportError(.connectionRefused, "refused")
    }

    static let json = """
        {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "secret-\(canary)", "Token": "token-\(canary)", \
        "Expiration": "2025-11-24T17:00:00Z"}
        """

    // MARK: environment

    @Test func environmentKeysComeFirst() async throws {
        let provider = try Self.resolve([
            "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
            "AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent", "AWS_ROLE_ARN": "arn",
        ])
        #expect(provider.name == "environment")
        let credentials = try await provider.fetch()
        #expect(credentials == Credentials(accessKeyId: "AKIAENV", secretAccessKey: "s", sessionToken: "t"))
    }

    @Test(arguments: [["AWS_ACCESS_KEY_ID": "AKIA"], ["AWS_SECRET_ACCESS_KEY": "secret-\(canary)"]])
    func partialEnvironmentKeysAreAnError(_ environment: [String: String]) {
        #expect {
            _ = try Self.resolve(environment)
        } throws: { error in
            let error = error as? IdentityError
            return error?.code == .misconfigured && !"\(error!)".contains(Self.canary)
        }
    }

    // MARK: shared files

    @Test func profileFromTheCredentialsFileBeatsTheConfigFile() async throws {
        let dir = try Self.temporaryDirectory()
        try """
        [default]
        aws_access_key_id = AKIADEFAULT
        aws_secret_access_key = s1
        [jobs]
        aws_access_key_id=AKIAJOBS   ; a comment
        aws_secret_access_key=s2
        aws_session_token = t2
        """.write(to: dir.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        try """
        [profile jobs]
        aws_access_key_id = AKIACONFIG
        aws_secret_access_key = s3
        [profile other]
        region = eu-west-1
        s3 =
          max_concurrent_requests = 20
        aws_access_key_id = AKIAOTHER
        aws_secret_access_key = s4
        """.write(to: dir.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        let files = [
            "AWS_SHARED_CREDENTIALS_FILE": dir.appendingPathComponent("credentials").path,
            "AWS_CONFIG_FILE": dir.appendingPathComponent("config").path,
        ]
        let jobs = try Self.resolve(files.merging(["AWS_PROFILE": "jobs"]) { $1 })
        #expect(jobs.name == "profile:jobs")
        #expect(
            try await jobs.fetch() == Credentials(accessKeyId: "AKIAJOBS", secretAccessKey: "s2", sessionToken: "t2"))
        let other = try Self.resolve(files.merging(["AWS_PROFILE": "other"]) { $1 })
        #expect(try await other.fetch().accessKeyId == "AKIAOTHER")
        let fallback = try Self.resolve(files)
        #expect(try await fallback.fetch().accessKeyId == "AKIADEFAULT")
    }

    @Test func aMissingOrUnsupportedExplicitProfileIsAnError() throws {
        let dir = try Self.temporaryDirectory()
        let config = dir.appendingPathComponent("config")
        try "[profile assume]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let base = ["AWS_CONFIG_FILE": config.path, "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "HOME": dir.path]
        #expect {
            _ = try Self.resolve(base.merging(["AWS_PROFILE": "nope"]) { $1 })
        } throws: { ($0 as? IdentityError)?.message.contains("names profile 'nope'") == true }
        #expect {
            _ = try Self.resolve(base.merging(["AWS_PROFILE": "assume"]) { $1 })
        } throws: { ($0 as? IdentityError)?.message.contains("role_arn") == true }
    }

    // MARK: web identity

    @Test func webIdentityCallsSTSWithTheTokenFileReadEachTime() async throws {
        let dir = try Self.temporaryDirectory()
        let tokenFile = dir.appendingPathComponent("token")
        try "jwt-one\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let requests = RequestLog()
        let transport = ClosureTransport { request throws(HTTPTransportError) in
            requests.append(request)
            return HTTPResponse(
                status: 200,
                body: """
                    <AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>
                    <AccessKeyId>ASIASTS</AccessKeyId><SecretAccessKey>a&amp;b</SecretAccessKey>
                    <SessionToken>tok</SessionToken><Expiration>2025-11-24T17:00:00Z</Expiration>
                    </Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>
                    """)
        }
        let provider = try Self.resolve(
            [
                "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile.path, "AWS_ROLE_ARN": "arn:aws:iam::1:role/w",
                "AWS_ROLE_SESSION_NAME": "s n",
            ], transport: transport)
        #expect(provider.name == "web-identity")
        let credentials = try await provider.fetch()
        #expect(credentials.accessKeyId == "ASIASTS" && credentials.secretAccessKey == "a&b")
        #expect(credentials.expiration == AWSDate.parseISO8601("2025-11-24T17:00:00Z"))
        try "jwt-two".write(to: tokenFile, atomically: true, encoding: .utf8)
        _ = try await provider.fetch()

        let bodies = requests.all.map { String(decoding: $0.body, as: UTF8.self) }
        #expect(requests.all.first?.url == "https://sts.us-east-1.amazonaws.com/")
        #expect(requests.all.first?.header("Authorization") == nil)
        #expect(bodies[0].contains("Action=AssumeRoleWithWebIdentity"))
        #expect(bodies[0].contains("RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fw"))
        #expect(bodies[0].contains("RoleSessionName=s%20n"))
        #expect(bodies[0].contains("WebIdentityToken=jwt-one&") || bodies[0].hasSuffix("WebIdentityToken=jwt-one"))
        #expect(bodies[1].contains("WebIdentityToken=jwt-two"))
    }

    @Test func webIdentityRefusalIsNamedWithoutTheToken() async throws {
        let dir = try Self.temporaryDirectory()
        let tokenFile = dir.appendingPathComponent("token")
        try "jwt-\(Self.canary)".write(to: tokenFile, atomically: true, encoding: .utf8)
        let transport = ClosureTransport { _ throws(HTTPTransportError) in
            HTTPResponse(
                status: 400,
                body:
                    "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>jwt-\(Self.canary)</Message></Error></ErrorResponse>"
            )
        }
        let provider = try Self.resolve(
            ["AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile.path, "AWS_ROLE_ARN": "arn:aws:iam::1:role/w"],
            transport: transport)
        await #expect {
            _ = try await provider.fetch()
        } throws: { error in
            let text = "\(error)"
            return (error as? IdentityError)?.code == .denied && text.contains("InvalidIdentityToken")
                && !text.contains(Self.canary)
        }
    }

    @Test func webIdentityNeedsARole() {
        #expect(throws: IdentityError.self) {
            _ = try Self.resolve(["AWS_WEB_IDENTITY_TOKEN_FILE": "/t"])
        }
    }

    // MARK: container

    @Test func containerRelativeURIGoesToTheECSAgent() async throws {
        let requests = RequestLog()
        let transport = ClosureTransport { request throws(HTTPTransportError) in
            requests.append(request)
            return HTTPResponse(status: 200, body: Self.json)
        }
        let provider = try Self.resolve(
            ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"], transport: transport)
        let credentials = try await provider.fetch()
        #expect(requests.all.first?.url == "http://169.254.170.2/v2/credentials/abc")
        #expect(requests.all.first?.header("Authorization") == nil)
        #expect(credentials.sessionToken == "token-\(Self.canary)")
        #expect(credentials.expiration == AWSDate.parseISO8601("2025-11-24T17:00:00Z"))
    }

    @Test func containerFullURISendsTheTokenFileReadEachTime() async throws {
        let dir = try Self.temporaryDirectory()
        let tokenFile = dir.appendingPathComponent("token")
        try "first".write(to: tokenFile, atomically: true, encoding: .utf8)
        let requests = RequestLog()
        let transport = ClosureTransport { request throws(HTTPTransportError) in
            requests.append(request)
            return HTTPResponse(status: 200, body: Self.json)
        }
        let provider = try Self.resolve(
            [
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile.path, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "env",
            ], transport: transport)
        _ = try await provider.fetch()
        try "second".write(to: tokenFile, atomically: true, encoding: .utf8)
        _ = try await provider.fetch()
        #expect(requests.all.map { $0.header("Authorization") } == ["first", "second"])
        try "third\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        await #expect {
            _ = try await provider.fetch()
        } throws: { ($0 as? IdentityError)?.message.contains("line break") == true }
    }

    @Test(arguments: ["http://10.0.0.5/creds", "http://example.com/creds", "http://169.254.169.254/x", "ftp://x"])
    func containerFullURIOverPlainHTTPMustBeLocal(_ uri: String) {
        #expect {
            _ = try Self.resolve(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri])
        } throws: { ($0 as? IdentityError)?.code == .misconfigured }
    }

    @Test(arguments: [
        (403, "{\"code\": \"AccessDenied\"}", IdentityError.Code.denied),
        (500, "{}", .unreachable),
        (200, "{\"AccessKeyId\": \"A\"}", .malformedResponse),
        (
            200, "{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"\(canary)\", \"Expiration\": \"soon\"}",
            .malformedResponse
        ),
        (200, "<html>\(canary)</html>", .malformedResponse),
    ])
    func containerErrorsAreTypedWithoutEchoingTheBody(
        _ status: Int, _ body: String, _ code: IdentityError.Code
    ) async throws {
        let transport = ClosureTransport { _ throws(HTTPTransportError) in HTTPResponse(status: status, body: body) }
        let provider = try Self.resolve(
            ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example/x"], transport: transport)
        await #expect {
            _ = try await provider.fetch()
        } throws: { error in
            (error as? IdentityError)?.code == code && !"\(error)".contains(Self.canary)
        }
    }

    // MARK: instance metadata

    @Test func instanceMetadataUsesIMDSv2Only() async throws {
        let requests = RequestLog()
        let transport = ClosureTransport { request throws(HTTPTransportError) in
            requests.append(request)
            switch (request.method, request.url) {
            case ("PUT", "http://imds.test/latest/api/token"):
                return HTTPResponse(status: 200, body: "session-token")
            case (_, _) where request.header("X-aws-ec2-metadata-token") != "session-token":
                return HTTPResponse(status: 401)
            case ("GET", "http://imds.test/latest/meta-data/iam/security-credentials/"):
                return HTTPResponse(status: 200, body: "worker-role\n")
            case ("GET", "http://imds.test/latest/meta-data/iam/security-credentials/worker-role"):
                return HTTPResponse(
                    status: 200, body: Self.json.replacingOccurrences(of: "{", with: "{\"Code\": \"Success\", "))
            default:
                return HTTPResponse(status: 404)
            }
        }
        let provider = try Self.resolve(
            ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://imds.test/"], transport: transport)
        #expect(provider.name == "instance-metadata")
        let credentials = try await provider.fetch()
        #expect(credentials.accessKeyId == "ASIAEXAMPLE")
        #expect(requests.all.first?.header("X-aws-ec2-metadata-token-ttl-seconds") == "21600")
        #expect(requests.all.count == 3)
    }

    @Test func noCredentialsAnywhereSaysWhatWasLookedAt() async throws {
        let provider = try Self.resolve(["HOME": "/nonexistent"], transport: Self.unreachable)
        await #expect {
            _ = try await provider.fetch()
        } throws: { error in
            guard let error = error as? IdentityError else { return false }
            return error.code == .noCredentials && error.message.contains("no AWS credentials found")
                && error.message.contains("AWS_WEB_IDENTITY_TOKEN_FILE is unset")
                && error.message.contains("instance metadata service is not reachable")
        }
        #expect {
            _ = try Self.resolve(["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"])
        } throws: { ($0 as? IdentityError)?.message.contains("instance metadata is disabled") == true }
    }

    @Test func regionComesFromFlagThenAWSRegionThenDefault() {
        let environment = ["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"]
        #expect(CredentialChain.region(flag: "ap-south-1", environment: environment) == "ap-south-1")
        #expect(CredentialChain.region(flag: nil, environment: environment) == "eu-west-1")
        #expect(CredentialChain.region(flag: nil, environment: ["AWS_DEFAULT_REGION": "us-west-2"]) == "us-west-2")
        #expect(CredentialChain.region(flag: nil, environment: [:]) == nil)
    }
}

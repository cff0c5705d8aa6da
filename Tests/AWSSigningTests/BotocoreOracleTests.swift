import AWSSigning
import Foundation
import HTTPCore
import TestSupport
import Testing

/// Signs a few hundred generated requests and has botocore (IntegrationTests/sigv4_oracle.py, in the
/// project's virtual environment) compute the same Authorization headers independently.
@Suite(PythonClients.required) struct BotocoreOracleTests {
    struct Case: Encodable {
        var method, host, path, query: String
        var headers: [[String]]
        var body, region, service, key, secret: String
        var token: String?
        var amz_date: String
    }

    /// A small deterministic generator (SplitMix64), so a failure reproduces.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func generate(count: Int) -> [(Case, SigV4Signer.Request, SigV4Signer, Date)] {
        var rng = Generator(state: 20_151_030)
        let pathPieces = ["a", "b-c", "d_e.f", "~g", "x y", "$del", "ሴ", "..", ".", "", "v1", "job%2F1"]
        let queryPieces = ["a=1", "b=", "c", "Param%20Key=v%2Fw", "%E1%88%B4=bar", "z=Z~-._", "a=0"]
        let headerNames = ["X-Custom", "x-amz-target", "Content-Type", "My-Header"]
        let headerValues = ["value", "  padded  ", "a   b    c", "application/x-amz-json-1.1", "\"quoted  text\""]
        return (0..<count).map { index in
            let segments = (0..<Int.random(in: 0...4, using: &rng)).map { _ in pathPieces.randomElement(using: &rng)! }
            var path = "/" + segments.joined(separator: "/")
            if Bool.random(using: &rng) { path += "/" }
            let query = (0..<Int.random(in: 0...3, using: &rng)).map { _ in queryPieces.randomElement(using: &rng)! }
                .joined(separator: "&")
            var headers: HTTPHeaders = [("Host", "codepipeline.us-east-1.amazonaws.com")]
            for name in headerNames.shuffled(using: &rng).prefix(Int.random(in: 0...3, using: &rng)) {
                headers.append(name, headerValues.randomElement(using: &rng)!)
            }
            let body = String(repeating: "{\"jobId\": \"\(index)\"}", count: Int.random(in: 0...3, using: &rng))
            let token: String? = Bool.random(using: &rng) ? "token-\(index)" : nil
            let region = ["us-east-1", "eu-west-1", "cn-north-1"].randomElement(using: &rng)!
            let service = ["codepipeline", "sts", "service"].randomElement(using: &rng)!
            let date = Date(timeIntervalSince1970: 1_400_000_000 + Double(index) * 86_399.5)
            let credentials = Credentials(
                accessKeyId: "AKID\(index)", secretAccessKey: "secret/\(index)+key", sessionToken: token)
            let signer = SigV4Signer(credentials: credentials, region: region, service: service)
            let request = SigV4Signer.Request(
                method: ["GET", "POST", "PUT"].randomElement(using: &rng)!, path: path, query: query,
                headers: headers,
                body: Array(body.utf8))
            let wire = Case(
                method: request.method, host: "codepipeline.us-east-1.amazonaws.com", path: path, query: query,
                headers: headers.filter { $0.name != "Host" }.map { [$0.name, $0.value] }, body: body, region: region,
                service: service, key: credentials.accessKeyId, secret: credentials.secretAccessKey, token: token,
                amz_date: AWSDate.amzTimestamp(date))
            return (wire, request, signer, date)
        }
    }

    /// Runs `IntegrationTests/sigv4_oracle.py` with `arguments` on `cases`; its answers, in order.
    static func oracle(_ cases: some Encodable, arguments: [String] = []) throws -> [String] {
        let python = PythonClients.python
        try #require(
            FileManager.default.isExecutableFile(atPath: python.path), "no .venv: run `make test`, which creates it")
        let process = Process()
        process.executableURL = python
        process.arguments = [Fixtures.root.appendingPathComponent("IntegrationTests/sigv4_oracle.py").path] + arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONEncoder().encode(cases))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return try JSONDecoder().decode([String].self, from: data)
    }

    @Test func botocoreComputesTheSameSignatures() throws {
        let cases = Self.generate(count: 300)
        let expected = try Self.oracle(cases.map(\.0))
        #expect(expected.count == cases.count)
        var mismatches = 0
        for ((wire, request, signer, date), botocore) in zip(cases, expected) {
            let ours = signer.sign(request, at: date).authorization
            if ours != botocore {
                mismatches += 1
                Issue.record("\(wire.method) \(wire.path)?\(wire.query)\n ours: \(ours)\n boto: \(botocore)")
            }
        }
        #expect(mismatches == 0)
    }

    struct PresignCase: Encodable {
        var method, scheme, host, path: String
        var headers: [[String]]
        var region, key, secret: String
        var token: String?
        var amz_date: String
        var expires: Int
    }

    /// Presigned URLs for generated objects (keys with spaces, `+`, `=`, dots, non-ASCII, empty
    /// segments), hosts (virtual-hosted, path style, a port), signed headers and lifetimes: the
    /// whole URL must be the one botocore's S3 query signer makes, byte for byte.
    @Test func botocorePresignsTheSameURLs() throws {
        var rng = Generator(state: 20_260_412)
        let keyPieces = ["in", "SourceArti", "a b", "x+y=z", "..", ".", "", "ሴ", "~t", "q\"", "%41", "k.zip"]
        let hosts = [
            ("https", "artifacts-bucket.s3.us-east-1.amazonaws.com", ""),
            ("https", "s3.eu-west-1.amazonaws.com", "/my.dotted.bucket"),
            ("https", "s3.cn-north-1.amazonaws.com.cn", "/Bucket_1"), ("http", "127.0.0.1:4443", "/bucket"),
        ]
        let optionalHeaders: [(String, String)] = [
            ("x-amz-server-side-encryption", "aws:kms"),
            ("x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:us-east-1:123456789012:key/k-1"),
            ("x-amz-checksum-sha256", "LRGfHNJylYpJKhRK9gC53DZTH3MCezQHOWc0WwJwIbE="), ("content-length", "12"),
        ]
        var cases: [(PresignCase, SigV4Signer, Date)] = []
        for index in 0..<200 {
            let (scheme, host, prefix) = hosts.randomElement(using: &rng)!
            let segments = (1...Int.random(in: 1...4, using: &rng)).map { _ in keyPieces.randomElement(using: &rng)! }
            let path = prefix + "/" + segments.joined(separator: "/")
            let headers = optionalHeaders.filter { _ in Bool.random(using: &rng) }
            let region = ["us-east-1", "eu-west-1", "cn-north-1"].randomElement(using: &rng)!
            let token: String? = Bool.random(using: &rng) ? "session/token+\(index)=" : nil
            let credentials = Credentials(
                accessKeyId: "ASIA\(index)", secretAccessKey: "secret/\(index)+key", sessionToken: token)
            let date = Date(timeIntervalSince1970: 1_700_000_000 + Double(index) * 86_399)
            let wire = PresignCase(
                method: index % 2 == 0 ? "GET" : "PUT", scheme: scheme, host: host, path: path,
                headers: headers.map { [$0.0, $0.1] }, region: region, key: credentials.accessKeyId,
                secret: credentials.secretAccessKey, token: token, amz_date: AWSDate.amzTimestamp(date),
                expires: Int.random(in: 1...3600, using: &rng))
            let signer = SigV4Signer(credentials: credentials, region: region, service: "s3", normalizesPath: false)
            cases.append((wire, signer, date))
        }
        let expected = try Self.oracle(cases.map(\.0), arguments: ["--presign"])
        #expect(expected.count == cases.count)
        var mismatches = 0
        for ((wire, signer, date), botocore) in zip(cases, expected) {
            var headers = HTTPHeaders()
            for pair in wire.headers { headers.append(pair[0], pair[1]) }
            let ours = signer.presign(
                method: wire.method, scheme: wire.scheme, host: wire.host, path: wire.path, headers: headers,
                expires: wire.expires, at: date
            ).url
            if ours != botocore {
                mismatches += 1
                Issue.record("\(wire.method) \(wire.host)\(wire.path)\n ours: \(ours)\n boto: \(botocore)")
            }
        }
        #expect(mismatches == 0)
    }
}

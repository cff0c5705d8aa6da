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

    @Test func botocoreComputesTheSameSignatures() throws {
        let python = PythonClients.python
        try #require(
            FileManager.default.isExecutableFile(atPath: python.path), "no .venv: run `make test`, which creates it")
        let cases = Self.generate(count: 300)
        let process = Process()
        process.executableURL = python
        process.arguments = [Fixtures.root.appendingPathComponent("IntegrationTests/sigv4_oracle.py").path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONEncoder().encode(cases.map(\.0)))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let expected = try JSONDecoder().decode([String].self, from: data)
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
}

import Foundation
import TestSupport

/// IntegrationTests/fake_aws.py, started once for the test process. It stops by itself when this process
/// ends (its standard input closes), so nothing waits on it.
final class FakeAWSProcess: Sendable {
    /// The one fake all suites share.
    static let shared = Result { try FakeAWSProcess() }

    let httpsPort: Int
    let httpPort: Int
    let caBundle: String
    private let process: Process

    /// Starts the fake with the project's virtual environment's Python (made by `make test`).
    init() throws {
        let python = PythonClients.python
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw FakeError("no .venv: run `make test`, which creates it")
        }
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("fake-aws-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = python
        process.arguments = [
            Fixtures.root.appendingPathComponent("IntegrationTests/fake_aws.py").path, "--state-dir", stateDir.path,
            "--exit-on-stdin-eof",
        ]
        process.standardInput = Pipe()
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        self.process = process
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw FakeError("fake_aws.py exited before listening") }
            line.append(chunk)
        }
        struct Ports: Decodable {
            var https_port: Int
            var http_port: Int
            var ca_bundle: String
        }
        let ports = try JSONDecoder().decode(Ports.self, from: line)
        httpsPort = ports.https_port
        httpPort = ports.http_port
        caBundle = ports.ca_bundle
    }

    var https: String { "https://127.0.0.1:\(httpsPort)" }
    var http: String { "http://127.0.0.1:\(httpPort)" }

    struct FakeError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

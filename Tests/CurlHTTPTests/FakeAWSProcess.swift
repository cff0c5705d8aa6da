import Foundation
import TestSupport

/// IntegrationTests/fake_aws.py, started once for the test process (`PythonFake`).
final class FakeAWSProcess: Sendable {
    /// The one fake all suites share.
    static let shared = Result { try FakeAWSProcess() }

    let httpsPort: Int
    let httpPort: Int
    let caBundle: String
    private let process: Process

    init() throws {
        struct Ports: Decodable {
            var https_port: Int
            var http_port: Int
            var ca_bundle: String
        }
        let (process, ports) = try PythonFake.start("fake_aws.py", as: Ports.self)
        self.process = process
        httpsPort = ports.https_port
        httpPort = ports.http_port
        caBundle = ports.ca_bundle
    }

    var https: String { "https://127.0.0.1:\(httpsPort)" }
    var http: String { "http://127.0.0.1:\(httpPort)" }
}

import CurlHTTP
import Foundation
import HTTPTransport
import Kubernetes
import TestSupport

/// IntegrationTests/fake_kube.py, started once for the test process (`PythonFake`).
final class FakeKubeProcess: Sendable {
    static let shared = Result { try FakeKubeProcess() }

    let url: String
    let caBundle: String
    private let process: Process
    private let control: CurlTransport

    init() throws {
        struct Listening: Decodable {
            var port: Int
            var ca_bundle: String
        }
        let (process, listening) = try PythonFake.start("fake_kube.py", as: Listening.self)
        self.process = process
        url = "https://127.0.0.1:\(listening.port)"
        caBundle = listening.ca_bundle
        control = CurlTransport(settings: .init(caBundle: caBundle))
    }

    /// A client of the fake with `token`.
    func client(token: BearerToken, sleep: @escaping @Sendable (Duration) async -> Void = { _ in }) -> KubernetesClient
    {
        KubernetesClient(
            server: url, transport: CurlTransport(settings: .init(caBundle: caBundle)), token: token, sleep: sleep)
    }

    /// POSTs `json` to a control endpoint; the answer's bytes.
    @discardableResult
    func control(_ path: String, _ json: String = "{}") async throws -> [UInt8] {
        let response = try await control.send(
            HTTPRequest(
                method: json.isEmpty ? "GET" : "POST", url: url + path, headers: [("Content-Type", "application/json")],
                body: Array(json.utf8)))
        guard response.status == 200 else { throw PythonFake.Failure("control \(path): \(response.status)") }
        return response.body
    }
}

import ArgumentParser
import CurlHTTP
import HTTPTransport
import JobCreds

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `jobcreds probe`: a health check that needs no shell and no curl in the image (Docker
/// `HEALTHCHECK`, Kubernetes `exec` probes: the sidecar listens on loopback, which the kubelet's
/// `httpGet` probes cannot reach).
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Ask the sidecar on this host whether it is healthy or ready; exit 0 if so, 1 if not.",
        discussion: """
            GETs http://<listen><path> directly (no proxy) and exits 0 on 200. /healthz is 200 while \
            the process serves; /readyz once credentials are cached and the job is active.
            """)

    @Option(help: "The sidecar's --listen address (env JOBCREDS_LISTEN; default \(ListenAddress.defaultText)).")
    var listen: String?

    @Option(help: "/healthz or /readyz (default /readyz).")
    var path = "/readyz"

    @Option(help: "How long to wait for the answer (default 2s).")
    var timeout = "2s"

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let url: String
        let limit: Duration
        do {
            guard path == "/healthz" || path == "/readyz" else {
                throw JobCredsError(.usage, "--path \(path) is not a probe; use /healthz or /readyz")
            }
            let address = try ListenAddress(
                listen ?? EnvironmentOptions(environment)["LISTEN"] ?? ListenAddress.defaultText)
            url = "http://\(address)\(path)"
            limit = try DurationText.parse(timeout, option: "--timeout")
        } catch let error as JobCredsError {
            throw CommandFailure.probe.exit(error)
        }
        let transport = CurlTransport(settings: .init(userAgent: "jobcreds-probe/\(Version.current)", useProxy: false))
        do {
            let response = try await transport.send(
                HTTPRequest(method: "GET", url: url, timeout: limit, connectTimeout: limit))
            let body = String(decoding: response.body.prefix(512), as: UTF8.self)
            print("\(path) \(response.status) \(body)")
            if response.status != 200 { throw ExitCode.failure }
        } catch let error as HTTPTransportError {
            print("\(path) unreachable: \(error)")
            throw ExitCode.failure
        }
    }
}

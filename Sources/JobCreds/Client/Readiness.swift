import AWSSigning
import HTTPTransport

/// Waits for the sidecar's `/readyz` to answer 200 (`jobcreds exec --wait-ready`).
public enum Readiness {
    /// Polls `endpoint`'s readiness URL every `interval` until it answers 200.
    /// - Throws: `JobCredsError.unavailable` when `limit` passes first, with the last answer.
    public static func wait(
        for endpoint: ContainerEndpoint, within limit: Duration, transport: any HTTPTransport,
        interval: Duration = .milliseconds(100), uptime: MonotonicClock = .system
    ) async throws(JobCredsError) {
        let deadline = uptime.now + limit
        var last = "no answer"
        while true {
            do {
                let response = try await transport.send(
                    HTTPRequest(
                        method: "GET", url: endpoint.readinessURL, timeout: .seconds(2), connectTimeout: .seconds(1)))
                if response.status == 200 { return }
                last = "HTTP \(response.status)"
            } catch {
                last = error.description
            }
            guard uptime.now < deadline else {
                throw JobCredsError(
                    .unavailable,
                    "the sidecar at \(endpoint.readinessURL) was not ready within \(DurationText.format(limit)) "
                        + "(last: \(last)); is jobcreds serve running beside this container?")
            }
            try? await Task.sleep(for: interval)
        }
    }
}

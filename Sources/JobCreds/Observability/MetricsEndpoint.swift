import AWSSigning
import MicroHTTPServer

/// Answers `GET /metrics` on the metrics listener with the Prometheus text format. It serves
/// nothing secret and needs no token, so it may listen beyond loopback for Prometheus to scrape;
/// scrapes are not written to the audit log (they hand out no credentials).
public struct MetricsEndpoint: ServerHandler {
    private let metrics: SidecarMetrics
    private let cache: CredentialCache
    private let clock: any WallClock

    /// Creates the endpoint.
    public init(metrics: SidecarMetrics, cache: CredentialCache, clock: any WallClock) {
        self.metrics = metrics
        self.cache = cache
        self.clock = clock
    }

    /// The media type of the Prometheus text exposition format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public func respond(to request: ServerRequest) -> ServerResponse {
        guard JSONResponse.isServed(request.method) else { return JSONResponse.methodNotAllowed() }
        guard request.path == "/metrics" else {
            return JSONResponse.error(404, .refused(.notFound), "no such path; metrics are at /metrics")
        }
        return ServerResponse(
            status: 200, headers: [("Content-Type", Self.contentType), ("Cache-Control", "no-store")],
            body: metrics.exposition(cache: cache, now: clock.now))
    }

    public func refuse(_ request: RefusedRequest) -> ServerResponse {
        JSONResponse.refusal(request).0
    }
}

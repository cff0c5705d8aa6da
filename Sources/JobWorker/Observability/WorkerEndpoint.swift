import JobCreds
import MicroHTTPServer

/// The worker's metrics listener: `/metrics` (Prometheus text), `/healthz` (200 while the
/// process answers), `/readyz` (200 while it takes jobs, 503 otherwise). Nothing secret; no token.
struct WorkerEndpoint: ServerHandler {
    let metrics: WorkerMetrics

    func respond(to request: ServerRequest) -> ServerResponse {
        guard JSONResponse.isServed(request.method) else { return JSONResponse.methodNotAllowed() }
        switch request.path {
        case "/metrics":
            return ServerResponse(
                status: 200, headers: [("Content-Type", MetricsEndpoint.contentType), ("Cache-Control", "no-store")],
                body: metrics.exposition())
        case "/healthz":
            return JSONResponse.json(200, #"{"status":"ok"}"#)
        case "/readyz":
            return metrics.isReady
                ? JSONResponse.json(200, #"{"status":"ready"}"#)
                : JSONResponse.json(503, #"{"status":"not ready"}"#)
        default:
            return JSONResponse.error(404, .refused(.notFound), "no such path; /metrics, /healthz and /readyz are")
        }
    }

    func refuse(_ request: RefusedRequest) -> ServerResponse { JSONResponse.refusal(request).0 }
}

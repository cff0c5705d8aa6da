import MicroHTTPServer

/// What a listener answers, decided from the request and its context alone: the audited layer
/// around it adds the gate, the audit line and the metrics.
public protocol Router: Sendable {
    /// The answer to `request` and the decision behind it.
    func route(_ request: ServerRequest, context: RouteContext) -> Routed
}

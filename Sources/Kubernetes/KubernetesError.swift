import HTTPTransport

/// Why a Kubernetes API call failed: the API server's `Status` (its HTTP code, `reason` and
/// message), or no answer at all.
public struct KubernetesError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status, 0 when the API server did not answer.
    public var code: Int
    /// The Status `reason` (`AlreadyExists`, `Conflict`, `Invalid`, `Forbidden`, `Expired`, ...),
    /// or `Unreachable`, `Unreadable`.
    public var reason: String
    /// The API server's message, clamped; or what went wrong.
    public var message: String
    /// How long a `429` or `503` asked the client to wait.
    public var retryAfter: Duration?

    public init(code: Int, reason: String, message: String, retryAfter: Duration? = nil) {
        self.code = code
        self.reason = reason
        self.message = String(message.prefix(2048))
        self.retryAfter = retryAfter
    }

    /// The API server did not answer.
    static func unreachable(_ error: HTTPTransportError) -> KubernetesError {
        KubernetesError(code: 0, reason: "Unreachable", message: "the Kubernetes API did not answer: \(error.message)")
    }

    /// An answer that is not what the API sends.
    static func unreadable(_ what: String) -> KubernetesError {
        KubernetesError(code: 0, reason: "Unreadable", message: "the Kubernetes API answered \(what)")
    }

    public var isNotFound: Bool { code == 404 }
    public var isAlreadyExists: Bool { code == 409 && reason == "AlreadyExists" }
    public var isConflict: Bool { code == 409 && reason == "Conflict" }
    /// A watch's resourceVersion fell out of the API server's history: list again.
    public var isExpired: Bool { code == 410 }
    /// Worth trying again later: no answer, throttled, or the server's own trouble.
    public var isTransient: Bool { code == 0 && reason == "Unreachable" || code == 429 || code >= 500 }

    public var description: String { "\(code) \(reason): \(message)" }
}

/// The API's `Status` document, as far as the client reads it.
struct Status: Decodable {
    var code: Int?
    var reason: String?
    var message: String?
}

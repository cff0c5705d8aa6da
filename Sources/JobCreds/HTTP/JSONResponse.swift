import HTTPCore
import MicroHTTPServer

/// The answers every listener shares: JSON bodies with the common headers, `{"code","message"}`
/// errors, and the method rule (GET and HEAD only).
public enum JSONResponse {
    /// On every JSON answer: the type, never cached, never sniffed.
    static let commonHeaders: HTTPHeaders = [
        ("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
    ]

    /// A JSON answer with `body`.
    public static func json(_ status: Int, _ body: [UInt8]) -> ServerResponse {
        ServerResponse(status: status, headers: commonHeaders, body: body)
    }

    /// A JSON answer with `body`.
    public static func json(_ status: Int, _ body: String) -> ServerResponse {
        json(status, Array(body.utf8))
    }

    /// `{"code","message"}`: never shaped like credentials.
    public static func error(_ status: Int, _ code: ErrorCode, _ message: String) -> ServerResponse {
        json(status, JSONText.object([("code", JSONText.quote(code.rawValue)), ("message", JSONText.quote(message))]))
    }

    /// Whether `method` is one the sidecar's listeners serve (GET and HEAD).
    public static func isServed(_ method: String) -> Bool {
        method == "GET" || method == "HEAD"
    }

    /// The 405 answer for any other method, with its `Allow` header.
    public static func methodNotAllowed() -> ServerResponse {
        var response = error(405, .refused(.methodNotAllowed), "only GET and HEAD are served")
        response.headers.append("Allow", "GET, HEAD")
        return response
    }
}

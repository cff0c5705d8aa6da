import HTTPCore
import MicroHTTPServer

/// The answers every listener shares: JSON bodies with the common headers, `{"code","message"}`
/// errors, the method rule (GET and HEAD only), and the instance-metadata listener's plain text.
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

    /// A `text/plain` answer (the instance metadata service's tokens, names and region).
    public static func text(_ status: Int, _ body: String, headers extra: HTTPHeaders = []) -> ServerResponse {
        var headers: HTTPHeaders = [
            ("Content-Type", "text/plain"), ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
        ]
        for (name, value) in extra { headers.append(name, value) }
        return ServerResponse(status: status, headers: headers, body: Array(body.utf8))
    }

    /// `{"code","message"}`: never shaped like credentials.
    public static func error(_ status: Int, _ code: ErrorCode, _ message: String) -> ServerResponse {
        json(status, JSONText.object([("code", JSONText.quote(code.rawValue)), ("message", JSONText.quote(message))]))
    }

    /// The answer to a head the server refused before parsing it, and its code.
    public static func refusal(_ request: RefusedRequest) -> (ServerResponse, DenialCode) {
        let (code, message): (DenialCode, String) =
            switch request.reason {
            case .malformed:
                (
                    .malformedRequest,
                    "not an HTTP/1.1 request head as clients send one (request line, CRLF line ends, header fields)"
                )
            case .headTooLarge: (.headersTooLarge, "the request line and headers are over the limit in bytes or fields")
            case .versionNotSupported: (.httpVersionNotSupported, "only HTTP/1.0 and HTTP/1.1 are served")
            }
        return (error(request.reason.status, .refused(code), message), code)
    }

    /// Whether `method` is one the sidecar's listeners serve (GET and HEAD).
    public static func isServed(_ method: String) -> Bool {
        method == "GET" || method == "HEAD"
    }

    /// The 405 answer for any other method, with its `Allow` header.
    public static func methodNotAllowed(
        allow: String = "GET, HEAD", message: String = "only GET and HEAD are served"
    ) -> ServerResponse {
        var response = error(405, .refused(.methodNotAllowed), message)
        response.headers.append("Allow", allow)
        return response
    }
}

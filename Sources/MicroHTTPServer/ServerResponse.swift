import HTTPCore

/// A complete response: status, headers and body, sent as they are.
public struct ServerResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields to add (the server adds `Content-Length` and `Date` itself).
    public var headers: HTTPHeaders
    /// The body.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: HTTPHeaders = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

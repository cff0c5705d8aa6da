import HTTPCore

/// A complete HTTP response.
public struct HTTPResponse: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// Header fields in the order received.
    public var headers: HTTPHeaders
    /// The body, whole; empty when it went to the request's `responseFile`.
    public var body: [UInt8]
    /// How many bytes of the body went to the request's `responseFile`.
    public var fileBytes: Int64 = 0

    /// Creates a response.
    public init(status: Int, headers: HTTPHeaders = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Creates a response with a UTF-8 body.
    public init(status: Int, headers: HTTPHeaders = [], body: String) {
        self.init(status: status, headers: headers, body: Array(body.utf8))
    }

    /// The value of the first header named `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers[name]
    }
}

import HTTPCore

/// One outgoing HTTP request, as the rest of the code describes it to a transport.
public struct HTTPRequest: Sendable {
    /// The method, e.g. `GET`, `PUT`, `POST`.
    public var method: String
    /// The absolute URL, `http://` or `https://`.
    public var url: String
    /// Header fields in order; names as they should go on the wire.
    public var headers: HTTPHeaders
    /// The body; empty for none.
    public var body: [UInt8]
    /// A body read from a file instead of `body` (which must then be empty), for uploads.
    public var bodyFile: FileSlice?
    /// Where a 2xx response's body goes instead of memory, for downloads; any other response's
    /// body is kept in memory as usual, so an error document can still be read. A 2xx body longer
    /// than the slice fails the request with `responseTooLarge`.
    public var responseFile: FileSlice?
    /// Where a 2xx response's body goes as it arrives instead of memory (a stream); see
    /// `ResponseSink`. At most one of `responseFile` and `responseSink`.
    public var responseSink: ResponseSink?
    /// How long the whole exchange may take, connection included.
    public var timeout: Duration
    /// How long establishing the connection may take.
    public var connectTimeout: Duration

    /// Creates a request.
    public init(
        method: String, url: String, headers: HTTPHeaders = [], body: [UInt8] = [],
        timeout: Duration = .seconds(10), connectTimeout: Duration = .seconds(3), bodyFile: FileSlice? = nil,
        responseFile: FileSlice? = nil, responseSink: ResponseSink? = nil
    ) {
        self.bodyFile = bodyFile
        self.responseFile = responseFile
        self.responseSink = responseSink
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }

    /// The value of the first header named `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers[name]
    }
}

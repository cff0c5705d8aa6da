import MicroHTTPServer
import Testing

/// The accept loop's check of a request head, byte by byte (issue 14, finding 5).
@Suite struct RequestHeadTests {
    static let limits = RequestHead.Limits(bytes: 256, fields: 4)

    static func scan(_ text: String, limits: RequestHead.Limits = limits) -> RequestHead.Scan {
        Array(text.utf8).withUnsafeBytes { RequestHead.scan($0, limits: limits) }
    }

    static let line = RequestHead.Line(method: "GET", target: "/v1/credentials")

    @Test(arguments: [
        "GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "GET /v1/credentials HTTP/1.0\r\n\r\n",
        "\r\n\r\nGET /v1/credentials HTTP/1.1\r\nHost: a\r\n\r\n",  // empty lines first
        "GET /v1/credentials HTTP/1.1\r\nX-Empty:\r\nX-Tab:\tv\t\r\nContent-Length: 0\r\n\r\n",
        "GET /v1/credentials HTTP/1.1\r\ncontent-length:\t000000000000012\r\n\r\n",
        "GET /v1/credentials HTTP/1.1\r\nX-Utf8: caf\u{E9}\r\n\r\n",
        "GET /v1/credentials?a=1&b=2&c=3 HTTP/1.1\r\nHost: a\r\n\r\n",  // three arguments and a field
    ])
    func acceptsWhatClientsSend(_ text: String) {
        #expect(Self.scan(text) == .complete(length: text.utf8.count))
    }

    @Test func aHeadEndsAtItsEmptyLineWhateverFollows() {
        let head = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(Self.scan(head + "GET /b HTTP/2.0\r\n\r\n") == .complete(length: head.utf8.count))
    }

    @Test(
        arguments: [
            ("", nil), ("GE", nil), ("GET /v1/cred", nil), ("GET /v1/credentials HTTP/1.1\r", nil),
            ("GET /v1/credentials HTTP/1.1\r\n", line), ("GET /v1/credentials HTTP/1.1\r\nHost: a", line),
            ("GET /v1/credentials HTTP/1.1\r\nHost: a\r\n\r", line),
        ] as [(String, RequestHead.Line?)])
    func waitsForTheRestOfAHead(_ text: String, _ line: RequestHead.Line?) {
        #expect(Self.scan(text) == .incomplete(line))
    }

    @Test(
        arguments: [
            ("GET /v1/credentials\r\n\r\n", line),  // HTTP/0.9
            ("GET /v1/credentials HTTP/1.x\r\n\r\n", line),
            ("GET /v1/credentials http/1.1\r\n\r\n", line),
            ("GET /v1/credentials HTTP/1.1 \r\n\r\n", nil),  // three spaces: the target cannot be told
            ("GET /v1/cred entials HTTP/1.1\r\n\r\n", nil),
            ("GET  /v1/credentials HTTP/1.1\r\n\r\n", nil),
            (" GET /v1/credentials HTTP/1.1\r\n\r\n", nil),
            ("GET /v1/credentials HTTP/1.1\nHost: a\n\n", nil),  // bare LF
            ("GET /v1/credentials HTTP/1.1\r\nHost: a\n\r\n", line),
            ("GET /v1/credentials HTTP/1.1\r\nX-A: a\rb\r\n\r\n", line),  // bare CR in a value
            ("GET /v1/credentials HTTP/1.1\r\nX-A: a\u{0}b\r\n\r\n", line),
            ("GET /v1/credentials HTTP/1.1\r\nX-A: a\u{7F}\r\n\r\n", line),
            ("GET /v1/credentials HTTP/1.1\r\nNo colon\r\n\r\n", line),
            ("GET /v1/credentials HTTP/1.1\r\n: no name\r\n\r\n", line),
            ("GET /v1/credentials HTTP/1.1\r\nX A: v\r\n\r\n", line),
            ("GET /v1/credentials HTTP/1.1\r\nHost : a\r\n\r\n", line),
            ("GET /v1/credentials HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", line),
            ("GET /v1/credentials HTTP/1.1\r\nContent-Length: +0\r\n\r\n", line),
            ("GET /v1/credentials HTTP/1.1\r\nContent-Length: 0 \r\n\r\n", line),
            ("GET /v1/credentials HTTP/1.1\r\nContent-Length:\r\n\r\n", line),
            ("GET /v1/credentials HTTP/1.1\r\nContent-Length: 1000000000000000\r\n\r\n", line),  // 16 digits
            ("G\u{0}T /v1/credentials HTTP/1.1\r\n\r\n", nil),
            ("GET /v1/cr\u{E9}dentials HTTP/1.1\r\n\r\n", nil),
            ("(GET) /v1/credentials HTTP/1.1\r\n\r\n", nil),
        ] as [(String, RequestHead.Line?)])
    func refusesAMalformedHead(_ text: String, _ line: RequestHead.Line?) {
        #expect(Self.scan(text) == .refused(.malformed, line))
    }

    /// Garbage is refused as soon as it shows, not at the deadline.
    @Test(arguments: [
        "\u{16}\u{03}\u{01}\u{02}", "GET /a\u{1B}", "GET /a HTTP/1.1 x", "GET\u{0}", "GET /a HTTP/1.1\r\nX-A: \u{0}",
    ])
    func refusesGarbageBeforeTheLineEnds(_ text: String) {
        guard case .refused(.malformed, _) = Self.scan(text) else {
            Issue.record("\(text.debugDescription): \(Self.scan(text))")
            return
        }
    }

    @Test(arguments: ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3.0"])
    func refusesOtherVersions(_ version: String) {
        #expect(Self.scan("GET /v1/credentials \(version)\r\n\r\n") == .refused(.versionNotSupported, Self.line))
    }

    @Test func refusesAHeadOverTheByteLimit() {
        let exactly = "GET /v1/credentials HTTP/1.1\r\nX-Pad: " + String(repeating: "p", count: 256 - 41) + "\r\n\r\n"
        #expect(exactly.utf8.count == 256)
        #expect(Self.scan(exactly) == .complete(length: 256))
        let over = "GET /v1/credentials HTTP/1.1\r\nX-Pad: " + String(repeating: "p", count: 256 - 40) + "\r\n\r\n"
        #expect(Self.scan(over) == .refused(.headTooLarge, Self.line))
        // A head without an end, one byte past the limit, is known to be too large.
        #expect(Self.scan(String(repeating: "a", count: 257)) == .refused(.headTooLarge, nil))
        #expect(Self.scan("GET /" + String(repeating: "a", count: 300)) == .refused(.headTooLarge, nil))
        #expect(Self.scan("GET /" + String(repeating: "a", count: 200)) == .incomplete(nil))
    }

    @Test func countsHeaderFieldsAndQueryArgumentsTogether() {
        let four = "GET /v1/credentials HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"
        #expect(Self.scan(four) == .complete(length: four.utf8.count))
        #expect(
            Self.scan("GET /v1/credentials HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n")
                == .refused(.headTooLarge, Self.line))
        let arguments = RequestHead.Line(method: "GET", target: "/a?x=1&y=2")
        #expect(
            Self.scan("GET /a?x=1&y=2 HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n") == .refused(.headTooLarge, arguments))
    }
}

import Glibc
import MicroHTTPServer
import Synchronization
import Testing

/// libmicrohttpd never answers on its own (issue 14, finding 5): the real server on loopback is
/// sent the largest heads the limits allow, and a few thousand heads mutated byte by byte from
/// ones clients send; every answer must be the handler's (`respond` or `refuse`), never a page of
/// libmicrohttpd's, and the backstop that reports such a page must never fire.
@Suite struct NoPageOfItsOwnTests {
    final class Marking: ServerHandler {
        let unserved = Mutex(0)
        func respond(to request: ServerRequest) -> ServerResponse {
            ServerResponse(status: 200, headers: [("X-From", "respond")], body: Array("ok".utf8))
        }
        func refuse(_ request: RefusedRequest) -> ServerResponse {
            ServerResponse(status: request.reason.status, headers: [("X-From", "refuse")], body: Array("no".utf8))
        }
        func requestNotServed(_ request: UnservedRequest) { unserved.withLock { $0 += 1 } }
    }

    static let limits = RequestHead.Limits(bytes: 8192, fields: 64)

    /// The worst heads for libmicrohttpd's buffer that the check lets through.
    static func largest() -> [[UInt8]] {
        let start = "GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        let cookie = start + "Cookie: " + String(repeating: "c", count: 8192 - start.utf8.count - 12) + "\r\n\r\n"
        let fields = start + (0..<63).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        let padded = start + (0..<62).map { "X-\($0): v\r\n" }.joined()
        let full = padded + "Cookie: " + String(repeating: "c", count: 8192 - padded.utf8.count - 12) + "\r\n\r\n"
        let arguments =
            "GET /a?" + (0..<62).map { "a\($0)=1" }.joined(separator: "&") + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Cookie: " + String(repeating: "c", count: 7000) + "\r\n\r\n"
        return [cookie, fields, full, arguments].map { Array($0.utf8) }
    }

    @Test func theLargestHeadsTheLimitsAllowAreTheHandlers() throws {
        let handler = Marking()
        let server = try MicroHTTPServer(
            .init(host: "127.0.0.1", port: 0, requestHeadDeadline: .milliseconds(200), headLimits: Self.limits),
            handler: handler)
        defer { server.stop() }
        for head in Self.largest() {
            #expect(head.count <= 8192)
            #expect(head.withUnsafeBytes { RequestHead.scan($0, limits: Self.limits) } == .complete(length: head.count))
            let answer = Self.exchange(head, port: server.port)
            #expect(answer.hasPrefix("HTTP/1.1 200 ") && answer.contains("X-From: respond"), "\(answer.prefix(200))")
        }
        #expect(handler.unserved.withLock { $0 } == 0)
    }

    @Test func mutatedHeadsAreAnsweredByTheHandlerOnly() throws {
        let handler = Marking()
        let server = try MicroHTTPServer(
            .init(host: "127.0.0.1", port: 0, requestHeadDeadline: .milliseconds(100), headLimits: Self.limits),
            handler: handler)
        defer { server.stop() }
        let seeds =
            [
                "GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: abc\r\nUser-Agent: aws-cli/2\r\n\r\n",
                "HEAD /latest/meta-data/iam/security-credentials/ HTTP/1.0\r\nX-aws-ec2-metadata-token: t\r\n\r\n",
                "GET /v1/artifacts?name=a&x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nCookie: a=b\r\n\r\n",
            ].map { Array($0.utf8) } + Self.largest()
        let alphabet: [UInt8] = Array(" \r\n:\t\0/?&%=HTTP1.0-".utf8) + [0x7F, 0x80, 0xFF, 0x1B]
        var random = SplitMix(seed: 14)
        var answered = 0
        for round in 0..<1500 {
            var head = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let at = Int(random.next() % UInt64(head.count))
                switch random.next() % 5 {
                case 0: head[at] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                case 1: head.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: at)
                case 2: head.remove(at: at)
                case 3: head.insert(contentsOf: head[at..<min(head.count, at + Int(random.next() % 2000))], at: at)
                default: head[at] = UInt8(truncatingIfNeeded: random.next())
                }
                if head.isEmpty { head = seeds[0] }
            }
            let answer = Self.exchange(head, port: server.port)
            guard !answer.isEmpty else { continue }  // no request line, or cut at the deadline
            answered += 1
            let ours = answer.hasPrefix("HTTP/1.1 ") && answer.contains("X-From: ")
            #expect(ours, "\(Array(head.prefix(300))) -> \(answer.prefix(300))")
            if !ours { break }
        }
        #expect(answered > 1000)
        #expect(handler.unserved.withLock { $0 } == 0)
    }

    /// Sends `head` on a new connection and reads the answer until the server closes it.
    static func exchange(_ head: [UInt8], port: Int) -> String {
        let socket = MicroHTTPServerTests.connect(port: port)
        defer { close(socket) }
        _ = head.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            answer += buffer[..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}

/// A small deterministic generator (SplitMix64), so a failure can be run again.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

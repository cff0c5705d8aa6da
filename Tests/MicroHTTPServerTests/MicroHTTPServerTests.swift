import CurlHTTP
import Foundation
import Glibc
import HTTPTransport
import MicroHTTPServer
import Synchronization
import Testing

/// The real server on loopback, with libcurl as the client.
@Suite struct MicroHTTPServerTests {
    /// Echoes what it was given, as JSON headers.
    final class Echo: ServerHandler {
        let seen = Mutex<[ServerRequest]>([])
        func respond(to request: ServerRequest) -> ServerResponse {
            seen.withLock { $0.append(request) }
            return ServerResponse(
                status: request.path == "/teapot" ? 418 : 200,
                headers: [("Content-Type", "text/plain"), ("X-Path", request.path)],
                body: Array("\(request.method) \(request.path) \(request.bodyLength)".utf8))
        }
        let refused = Mutex<[RefusedRequest]>([])
        func refuse(_ request: RefusedRequest) -> ServerResponse {
            refused.withLock { $0.append(request) }
            return ServerResponse(
                status: request.reason.status, headers: [("X-Refused", request.reason.rawValue)],
                body: Array("refused".utf8))
        }
    }

    let client = CurlTransport()

    /// One request per connection: every answer says `Connection: close`, so the next request's
    /// head comes through the accept loop's check too (issue 14, finding 5).
    @Test func servesOnAPickedPortOneRequestPerConnection() async throws {
        let echo = Echo()
        let server = try MicroHTTPServer(.init(host: "127.0.0.1", port: 0), handler: echo)
        #expect(server.port > 0)
        let base = "http://127.0.0.1:\(server.port)"
        let first = try await client.send(HTTPRequest(method: "GET", url: "\(base)/a", headers: [("X-One", "1")]))
        #expect(first.status == 200 && String(decoding: first.body, as: UTF8.self) == "GET /a 0")
        #expect(first.header("X-Path") == "/a" && first.header("Content-Type") == "text/plain")
        #expect(first.header("Connection")?.lowercased() == "close")
        let head = try await client.send(HTTPRequest(method: "HEAD", url: "\(base)/h"))
        #expect(head.status == 200 && head.body.isEmpty)
        let teapot = try await client.send(HTTPRequest(method: "GET", url: "\(base)/teapot"))
        #expect(teapot.status == 418)
        let requests = echo.seen.withLock { $0 }
        #expect(requests.count == 3)
        #expect(requests[0].header("x-one") == "1")
        #expect(requests[0].clientAddress == "127.0.0.1" && requests[0].clientPort > 0)
        #expect(Set(requests.map(\.clientPort)).count == 3)
        server.stop()
        await #expect {
            _ = try await client.send(HTTPRequest(method: "GET", url: "\(base)/a"))
        } throws: { ($0 as? HTTPTransportError)?.code == .connectionRefused }
    }

    /// By default the path and the query arguments arrive decoded; with `keepsEscapes` exactly as
    /// sent, so a handler that matches names exactly cannot be reached through an encoding.
    @Test(arguments: [false, true])
    func thePathAndTheQueryArriveDecodedOrAsSent(_ keepsEscapes: Bool) async throws {
        let echo = Echo()
        let server = try MicroHTTPServer(
            .init(host: "127.0.0.1", port: 0, keepsEscapes: keepsEscapes), handler: echo)
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/v1/%53ource%2Fx?sha256=ab%63d&length=12&flag&=empty"
        _ = try await client.send(HTTPRequest(method: "GET", url: url))
        let request = try #require(echo.seen.withLock { $0.first })
        #expect(request.path == (keepsEscapes ? "/v1/%53ource%2Fx" : "/v1/Source/x"))
        #expect(
            request.query == [
                QueryItem(name: "sha256", value: keepsEscapes ? "ab%63d" : "abcd"),
                QueryItem(name: "length", value: "12"), QueryItem(name: "flag", value: ""),
                QueryItem(name: "", value: "empty"),
            ])
    }

    @Test func aBodyOverTheLimitIsAnsweredAtOnceAndNeverRead() async throws {
        let echo = Echo()
        let server = try MicroHTTPServer(.init(host: "127.0.0.1", port: 0, maxBodyBytes: 4), handler: echo)
        let base = "http://127.0.0.1:\(server.port)"
        let small = try await client.send(HTTPRequest(method: "POST", url: "\(base)/p", body: Array("abc".utf8)))
        #expect(String(decoding: small.body, as: UTF8.self) == "POST /p 3")
        let large = try await client.send(
            HTTPRequest(method: "POST", url: "\(base)/p", body: Array(repeating: 0x41, count: 100_000)))
        #expect(String(decoding: large.body, as: UTF8.self) == "POST /p 100000")
        #expect(large.header("Connection")?.lowercased() == "close")
        let after = try await client.send(HTTPRequest(method: "GET", url: "\(base)/after"))
        #expect(after.status == 200)
        #expect(Set(echo.seen.withLock { $0.map(\.clientPort) }).count == 3)
    }

    @Test func servesIPv6Loopback() async throws {
        let echo = Echo()
        let server = try MicroHTTPServer(.init(host: "::1", port: 0), handler: echo)
        let response = try await client.send(HTTPRequest(method: "GET", url: "http://[::1]:\(server.port)/six"))
        #expect(response.status == 200)
        #expect(echo.seen.withLock { $0.first?.clientAddress } == "::1")
    }

    @Test func refusesNamesAndBusyPorts() throws {
        #expect(throws: ServerError.self) {
            _ = try MicroHTTPServer(.init(host: "localhost", port: 0), handler: Echo())
        }
        let first = try MicroHTTPServer(.init(host: "127.0.0.1", port: 0), handler: Echo())
        #expect(throws: ServerError.self) {
            _ = try MicroHTTPServer(.init(host: "127.0.0.1", port: UInt16(first.port)), handler: Echo())
        }
    }

    /// Counts refused connections, for the ledger tests.
    final class Refusals: ServerHandler {
        let seen = Mutex<[ConnectionRefusal]>([])
        let requests = Mutex<[ServerRequest]>([])
        func respond(to request: ServerRequest) -> ServerResponse {
            requests.withLock { $0.append(request) }
            return ServerResponse(status: 200, headers: [], body: [])
        }
        func connectionRefused(_ refusal: ConnectionRefusal) { seen.withLock { $0.append(refusal) } }
        func refuse(_ request: RefusedRequest) -> ServerResponse { ServerResponse(status: request.reason.status) }
    }

    /// The server knows which user holds the other end of each connection (sock_diag), whatever
    /// address it connects from (issue 14, finding 4).
    @Test func knowsTheUserAtTheOtherEnd() async throws {
        let handler = Refusals()
        let server = try MicroHTTPServer(.init(host: "127.0.0.1", port: 0), handler: handler)
        defer { server.stop() }
        _ = try await client.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/"))
        let request = try #require(handler.requests.withLock { $0.first })
        #expect(request.clientOwner == .user(geteuid()))
    }

    /// One owner may hold `perClientConnectionLimit` connections; the next is shut down at once and
    /// reported, not served.
    @Test func anOwnerOverItsLimitIsShutDownAndReported() throws {
        let handler = Refusals()
        let server = try MicroHTTPServer(
            .init(host: "127.0.0.1", port: 0, perClientConnectionLimit: 2), handler: handler)
        defer { server.stop() }
        let sockets = (0..<3).map { _ in Self.connect(port: server.port) }
        defer { sockets.forEach { close($0) } }
        // The pool's threads accept concurrently: which of the three comes third is theirs to say.
        #expect(sockets.filter { Self.waitForEOF($0, seconds: 1) }.count == 1)
        let refusals = handler.seen.withLock { $0 }
        #expect(refusals.count == 1)
        #expect(refusals.first?.reason == .perClientLimit && refusals.first?.owner == .user(geteuid()))
    }

    /// A connection that has not sent a whole request head by the deadline is shut down, however
    /// it dribbles.
    @Test func aConnectionWithoutARequestHeadIsCutAtTheDeadline() throws {
        let handler = Refusals()
        let server = try MicroHTTPServer(
            .init(host: "127.0.0.1", port: 0, requestHeadDeadline: .milliseconds(300), idleTimeoutSeconds: 30),
            handler: handler)
        defer { server.stop() }
        let socket = Self.connect(port: server.port)
        defer { close(socket) }
        _ = "GET / HT".withCString { send(socket, $0, 8, 0) }
        #expect(Self.waitForEOF(socket))
        #expect(handler.seen.withLock { $0.map(\.reason) } == [.noRequestHead])
    }

    static func connect(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return fd
    }

    /// Whether the server closes `fd` within `seconds`.
    static func waitForEOF(_ fd: Int32, seconds: Int = 3) -> Bool {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, 0)
        return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }
}

import CurlHTTP
import Foundation
import HTTPTransport
import Synchronization
import TestSupport
import Testing

/// The real libcurl transport against IntegrationTests/fake_aws.py on loopback.
@Suite(.serialized, PythonClients.required) struct CurlTransportTests {
    let fake: FakeAWSProcess
    let transport: CurlTransport

    init() throws {
        fake = try FakeAWSProcess.shared.get()
        transport = CurlTransport(settings: .init(caBundle: fake.caBundle, maxResponseBytes: 64 * 1024))
    }

    struct Echo: Decodable {
        var method: String
        var headers: [String: String]
        var body: String
        var client_port: Int
    }

    func echo(_ request: HTTPRequest) async throws -> (HTTPResponse, Echo) {
        let response = try await transport.send(request)
        return (response, try JSONDecoder().decode(Echo.self, from: Data(response.body)))
    }

    @Test func httpsWithTheAddedCAVerifiesAndCarriesTheRequest() async throws {
        let (response, echo) = try await echo(
            HTTPRequest(
                method: "POST", url: "\(fake.https)/_probe/echo",
                headers: [("X-Amz-Target", "T"), ("Content-Type", "application/x-amz-json-1.1")],
                body: Array("{\"jobId\":\"x\"}".utf8)))
        #expect(response.status == 200)
        #expect(response.header("content-type") == "application/json")
        #expect(response.header("x-amzn-RequestId")?.hasPrefix("req-") == true)
        #expect(echo.method == "POST")
        #expect(echo.body == "{\"jobId\":\"x\"}")
        #expect(echo.headers["X-Amz-Target"] == "T")
        #expect(echo.headers["Content-Type"] == "application/x-amz-json-1.1")
        #expect(echo.headers["Expect"] == nil)
    }

    @Test func putWithAnEmptyBodyAndGet() async throws {
        let (_, put) = try await echo(
            HTTPRequest(method: "PUT", url: "\(fake.http)/_probe/echo", headers: [("A", "b")]))
        #expect(put.method == "PUT" && put.body.isEmpty && put.headers["Content-Length"] == "0")
        let (_, get) = try await echo(HTTPRequest(method: "GET", url: "\(fake.http)/_probe/echo"))
        #expect(get.method == "GET")
    }

    @Test func reusesTheConnection() async throws {
        let (_, first) = try await echo(HTTPRequest(method: "GET", url: "\(fake.https)/_probe/echo"))
        let (_, second) = try await echo(HTTPRequest(method: "GET", url: "\(fake.https)/_probe/echo"))
        #expect(first.client_port == second.client_port)
    }

    @Test func anUntrustedCertificateIsRefusedAndNamesTheFix() async throws {
        let strict = CurlTransport()
        await #expect {
            _ = try await strict.send(HTTPRequest(method: "GET", url: "\(fake.https)/_probe/echo"))
        } throws: { error in
            let error = error as? HTTPTransportError
            return error?.code == .tlsFailure && error?.message.contains("--ca-bundle") == true
        }
    }

    @Test func aHangIsCutAtTheTimeout() async throws {
        let started = ContinuousClock.now
        await #expect {
            _ = try await transport.send(
                HTTPRequest(method: "GET", url: "\(fake.http)/_probe/sleep?seconds=5", timeout: .milliseconds(400)))
        } throws: { ($0 as? HTTPTransportError)?.code == .timedOut }
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test func anOversizedAnswerIsRefused() async throws {
        let fits = try await transport.send(HTTPRequest(method: "GET", url: "\(fake.http)/_probe/bytes?n=65536"))
        #expect(fits.body.count == 65536)
        await #expect {
            _ = try await transport.send(HTTPRequest(method: "GET", url: "\(fake.http)/_probe/bytes?n=65537"))
        } throws: { ($0 as? HTTPTransportError)?.code == .responseTooLarge }
    }

    @Test func aStreamedBodyReachesTheSinkPieceByPieceAsItArrives() async throws {
        let pieces = Mutex<[(String, ContinuousClock.Instant)]>([])
        let started = ContinuousClock.now
        let response = try await transport.send(
            HTTPRequest(
                method: "GET", url: "\(fake.https)/_probe/stream?pieces=4&delay=0.3", timeout: .seconds(10),
                responseSink: ResponseSink { bytes in
                    pieces.withLock { $0.append((String(decoding: bytes, as: UTF8.self), .now)) }
                    return true
                }))
        let ended = ContinuousClock.now
        let received = pieces.withLock { $0 }
        #expect(response.status == 200 && response.body.isEmpty, "the body went to the sink, not to memory")
        #expect(received.map(\.0).joined() == "piece 0\npiece 1\npiece 2\npiece 3\n")
        let first = try #require(received.first?.1)
        #expect(first - started < .milliseconds(900) && ended - first >= .milliseconds(800), "read as it arrived")
    }

    @Test func aSinkThatHasWhatItWantsStopsTheStream() async throws {
        let started = ContinuousClock.now
        await #expect {
            _ = try await transport.send(
                HTTPRequest(
                    method: "GET", url: "\(fake.https)/_probe/stream?pieces=20&delay=0.3", timeout: .seconds(10),
                    responseSink: ResponseSink { _ in false }))
        } throws: { ($0 as? HTTPTransportError)?.code == .stopped }
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test func aQuietStreamEndsSoonAfterItsReaderAsksToStop() async throws {
        let started = ContinuousClock.now
        await #expect {
            _ = try await transport.send(
                HTTPRequest(
                    method: "GET", url: "\(fake.https)/_probe/stream?pieces=3&delay=5", timeout: .seconds(20),
                    responseSink: ResponseSink(stopRequested: { ContinuousClock.now - started > .milliseconds(500) }) {
                        _ in true
                    }))
        } throws: { ($0 as? HTTPTransportError)?.code == .stopped }
        #expect(ContinuousClock.now - started < .seconds(3), "not the 5 s until the next piece")
    }

    @Test func anErrorAnswerToAStreamedRequestKeepsItsBodyInMemory() async throws {
        let called = Mutex(false)
        let response = try await transport.send(
            HTTPRequest(
                method: "GET", url: "\(fake.https)/no-such-route",
                responseSink: ResponseSink { _ in
                    called.withLock { $0 = true }
                    return true
                }))
        #expect(response.status == 404 && !response.body.isEmpty && !called.withLock { $0 })
    }

    @Test func refusedConnectionsAndBadURLsAreNamed() async throws {
        await #expect {
            _ = try await transport.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/"))
        } throws: { ($0 as? HTTPTransportError)?.code == .connectionRefused }
        await #expect {
            _ = try await transport.send(HTTPRequest(method: "GET", url: "file:///etc/passwd"))
        } throws: { ($0 as? HTTPTransportError)?.code == .invalidURL }
    }

    @Test func manyConcurrentRequests() async throws {
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<32 {
                group.addTask {
                    try await transport.send(HTTPRequest(method: "GET", url: "\(fake.https)/_probe/echo")).status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 32))
    }
}

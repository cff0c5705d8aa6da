import AWSSigning
import HTTPCore
import JobCreds
import MicroHTTPServer
import Synchronization
import Testing

@Suite struct RequestGateTests {
    final class FakeUptime: Sendable {
        let now = Mutex(100.0)
        func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
    }

    func request(
        host: String? = "127.0.0.1:9911", extra: [(String, String)] = [], body: Int = 0, client: String = "127.0.0.1"
    ) -> ServerRequest {
        var headers: HTTPHeaders = host.map { [("Host", $0)] } ?? []
        for (name, value) in extra { headers.append(name, value) }
        return ServerRequest(
            method: "GET", path: "/v1/credentials", headers: headers, clientAddress: client, bodyLength: body)
    }

    @Test(arguments: ["127.0.0.1", "127.0.0.1:9911", "localhost", "LOCALHOST:9911"])
    func theListenAddressIsAcceptedAsHost(_ host: String) {
        let gate = RequestGate(host: "127.0.0.1", port: 9911, settings: GateSettings())
        #expect(gate.check(request(host: host)) == nil)
    }

    @Test(arguments: [
        "evil.example", "evil.example:9911", "127.0.0.1:9912", "127.0.0.2:9911", "localhost.evil.example", "",
        "[::1]:9911",
    ])
    func anyOtherHostIsRefused(_ host: String) {
        let gate = RequestGate(host: "127.0.0.1", port: 9911, settings: GateSettings())
        #expect(gate.check(request(host: host))?.code.rawValue == "HostNotAllowed")
    }

    @Test func ipv6AndMissingOrDoubledHost() {
        let gate = RequestGate(host: "::1", port: 9911, settings: GateSettings())
        #expect(gate.check(request(host: "[::1]:9911")) == nil)
        #expect(gate.check(request(host: "localhost:9911")) == nil)
        #expect(gate.check(request(host: nil))?.code.rawValue == "HostNotAllowed")
        #expect(gate.check(request(extra: [("Host", "evil.example")]))?.status == 403)
        let ecs = RequestGate(host: "169.254.170.2", port: 80, settings: GateSettings())
        #expect(ecs.check(request(host: "169.254.170.2")) == nil)
        #expect(ecs.check(request(host: "localhost"))?.code.rawValue == "HostNotAllowed")
    }

    @Test(arguments: ["X-Forwarded-For", "x-forwarded-for", "Forwarded", "Origin"])
    func proxiesAndBrowsersAreRefused(_ header: String) {
        let gate = RequestGate(host: "127.0.0.1", port: 9911, settings: GateSettings())
        let denial = gate.check(request(extra: [(header, "x")]))
        #expect(denial?.status == 403 && denial?.code.rawValue == "ForwardedRequestRefused")
    }

    @Test func sizesAndBodies() {
        let gate = RequestGate(host: "127.0.0.1", port: 9911, settings: GateSettings())
        #expect(gate.check(request(extra: [("X-Pad", String(repeating: "a", count: 8000))])) == nil)
        #expect(gate.check(request(extra: [("X-Pad", String(repeating: "a", count: 8200))]))?.status == 431)
        let many = (0..<500).map { ("X-H\($0)", "0123456789") }
        #expect(gate.check(request(extra: many))?.code.rawValue == "HeadersTooLarge")
        #expect(gate.check(request(body: 1))?.code.rawValue == "BodyNotAllowed")
        #expect(gate.check(request(body: -1))?.status == 413)
    }

    @Test func refusalsDrawFromATokenBucketPerClient() {
        var settings = GateSettings()
        settings.ratePerSecond = 10
        settings.burst = 20
        let clock = FakeUptime()
        let uptime = MonotonicClock { .milliseconds(Int64(clock.now.withLock { $0 } * 1000)) }
        let gate = RequestGate(host: "127.0.0.1", port: 9911, settings: settings, uptime: uptime)
        let first = (0..<25).map { _ in gate.throttle(.user(65534)) }
        #expect(first.prefix(20).allSatisfy { $0 == nil })
        #expect(first.suffix(5).allSatisfy { $0?.status == 429 && $0?.retryAfter == 1 && $0?.code == .rateLimited })
        #expect(first.last??.message.hasSuffix("from this user") == true)
        #expect(gate.throttle(.user(1000)) == nil)  // another user has its own bucket
        #expect(gate.throttle(.address("127.0.0.2")) == nil)  // so has an address without a known user
        clock.advance(0.5)  // five tokens back
        #expect((0..<6).map { _ in gate.throttle(.user(65534)) == nil } == [true, true, true, true, true, false])
        settings.ratePerSecond = 0
        let unlimited = RequestGate(host: "127.0.0.1", port: 9911, settings: settings)
        #expect((0..<10_000).allSatisfy { _ in unlimited.throttle(.user(0)) == nil })
    }

    /// The checks before routing draw nothing: only refusals are limited.
    @Test func checkingARequestNeverThrottles() {
        var settings = GateSettings()
        settings.ratePerSecond = 1
        settings.burst = 1
        let gate = RequestGate(host: "127.0.0.1", port: 9911, settings: settings)
        #expect((0..<1000).allSatisfy { _ in gate.check(request()) == nil })
        #expect(gate.throttle(.user(0)) == nil && gate.throttle(.user(0))?.status == 429)
    }
}

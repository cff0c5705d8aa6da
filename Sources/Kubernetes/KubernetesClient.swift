import HTTPCore
import HTTPTransport
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The few calls of the Kubernetes API the worker makes, as JSON over the project's HTTP
/// transport (libcurl: the cluster's CA, certificates always verified): create, get, list,
/// merge-patch, delete and watch. Objects pass as JSON bytes; only what the caller decodes is
/// typed, so a user's pod template goes through untouched.
///
/// Every call sends the bearer token; a `401` reads the token again and tries once more; a `429`
/// (API Priority and Fairness) waits its `Retry-After` (at most 30 s) and tries again, three times.
public final class KubernetesClient: Sendable {
    /// `https://HOST:PORT`, no trailing slash.
    public let server: String
    private let transport: any HTTPTransport
    private let token: BearerToken
    /// The `fieldManager` of what the client writes.
    public let fieldManager: String
    private let sleep: @Sendable (Duration) async -> Void

    public init(
        server: String, transport: any HTTPTransport, token: BearerToken, fieldManager: String = "jobcreds-worker",
        sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }
    ) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.transport = transport
        self.token = token
        self.fieldManager = fieldManager
        self.sleep = sleep
    }

    // MARK: - Calls

    /// Creates an object from `body` (JSON); `dryRun` has the API server check it and store nothing.
    /// Unknown fields are refused (`fieldValidation=Strict`).
    public func create<Object: Decodable & Sendable>(
        _ path: ResourcePath, _ body: [UInt8], dryRun: Bool = false, as type: Object.Type = Object.self
    ) async throws(KubernetesError) -> Object {
        let query = ResourcePath.query([
            ("fieldManager", fieldManager), ("fieldValidation", "Strict"), ("dryRun", dryRun ? "All" : nil),
        ])
        return try await decode(type, call("POST", path.path() + query, body: body, expect: [200, 201]))
    }

    public func get<Object: Decodable & Sendable>(
        _ path: ResourcePath, _ name: String, as type: Object.Type = Object.self
    ) async throws(KubernetesError) -> Object {
        try await decode(type, call("GET", path.path(name), expect: [200]))
    }

    /// One page of a list.
    public func list<Item: Decodable & Sendable>(
        _ path: ResourcePath, labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil,
        continue token: String? = nil, as type: Item.Type = Item.self
    ) async throws(KubernetesError) -> ObjectList<Item> {
        let query = ResourcePath.query([
            ("labelSelector", labelSelector), ("fieldSelector", fieldSelector), ("limit", limit.map(String.init)),
            ("continue", token),
        ])
        return try await decode(ObjectList<Item>.self, call("GET", path.path() + query, expect: [200]))
    }

    /// Every page of a list, and the resourceVersion to watch from.
    public func listAll<Item: Decodable & Sendable>(
        _ path: ResourcePath, labelSelector: String? = nil, fieldSelector: String? = nil, pageSize: Int = 500,
        as type: Item.Type = Item.self
    ) async throws(KubernetesError) -> (items: [Item], resourceVersion: String) {
        var items: [Item] = []
        var token: String? = nil
        var version: String? = nil
        repeat {
            let page = try await list(
                path, labelSelector: labelSelector, fieldSelector: fieldSelector, limit: pageSize, continue: token,
                as: type)
            items += page.items
            version = version ?? page.metadata.resourceVersion
            token = page.metadata.continue.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        guard let version else { throw KubernetesError.unreadable("a list without a resourceVersion") }
        return (items, version)
    }

    /// Applies a JSON merge patch (RFC 7386); a `metadata.resourceVersion` in it makes the
    /// patch conditional (`isConflict` when the object has moved on).
    public func mergePatch<Object: Decodable & Sendable>(
        _ path: ResourcePath, _ name: String, _ patch: [UInt8], as type: Object.Type = Object.self
    ) async throws(KubernetesError) -> Object {
        let query = ResourcePath.query([("fieldManager", fieldManager), ("fieldValidation", "Strict")])
        return try await decode(
            type,
            call(
                "PATCH", path.path(name) + query, body: patch, contentType: "application/merge-patch+json",
                expect: [200]))
    }

    /// Deletes an object, its dependents in the background; with `uid`, only that very object
    /// (not a namesake created since).
    public func delete(_ path: ResourcePath, _ name: String, uid: String? = nil) async throws(KubernetesError) {
        struct Options: Encodable {
            struct Preconditions: Encodable { var uid: String }
            var apiVersion = "v1"
            var kind = "DeleteOptions"
            var propagationPolicy = "Background"
            var preconditions: Preconditions?
        }
        let options = (try? JSONEncoder().encode(Options(preconditions: uid.map(Options.Preconditions.init)))) ?? Data()
        _ = try await call("DELETE", path.path(name), body: Array(options), expect: [200, 202])
    }

    /// Watches the collection from `resourceVersion`: every change as it happens, bookmarks
    /// between, until the API server ends it (`timeoutSeconds`) or the consumer stops reading.
    /// A stream that ends without an error event ended normally: watch again from the last
    /// version seen. An error event with `isExpired` means list again.
    public func watch<Object: Decodable & Sendable>(
        _ path: ResourcePath, labelSelector: String? = nil, fieldSelector: String? = nil,
        resourceVersion: String, timeoutSeconds: Int = 300, as type: Object.Type = Object.self
    ) -> AsyncThrowingStream<WatchEvent<Object>, any Error> {
        let query = ResourcePath.query([
            ("watch", "1"), ("labelSelector", labelSelector), ("fieldSelector", fieldSelector),
            ("resourceVersion", resourceVersion), ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", String(timeoutSeconds)),
        ])
        let url = server + path.path() + query
        return AsyncThrowingStream { continuation in
            let stop = StopFlag()
            let task = Task { [self] in
                do throws(KubernetesError) {
                    let splitter = LineSplitter()
                    let failure = Mutex<KubernetesError?>(nil)
                    let sink = ResponseSink(stopRequested: { stop.raised }) { bytes in
                        guard let lines = splitter.lines(bytes) else {
                            failure.withLock { $0 = .unreadable("a watch event longer than 4 MiB") }
                            return false
                        }
                        for line in lines {
                            do throws(KubernetesError) {
                                if case .terminated = continuation.yield(try WatchEvent<Object>.decode(line)) {
                                    return false
                                }
                            } catch {
                                failure.withLock { $0 = error }
                                return false
                            }
                        }
                        return true
                    }
                    let response = try await exchange(
                        HTTPRequest(
                            method: "GET", url: url, headers: [], timeout: .seconds(Int64(timeoutSeconds) + 30),
                            connectTimeout: .seconds(10), responseSink: sink), stopped: { failure.withLock { $0 } })
                    if !(200..<300).contains(response.status) { throw Self.refusal(response) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in
                stop.raise()
                task.cancel()
            }
        }
    }

    // MARK: - The exchange

    private func call(
        _ method: String, _ pathAndQuery: String, body: [UInt8] = [], contentType: String = "application/json",
        expect: Set<Int>
    ) async throws(KubernetesError) -> [UInt8] {
        var headers: HTTPHeaders = [("Accept", "application/json")]
        if !body.isEmpty { headers.append("Content-Type", contentType) }
        let response = try await exchange(
            HTTPRequest(
                method: method, url: server + pathAndQuery, headers: headers, body: body, timeout: .seconds(30),
                connectTimeout: .seconds(10)), stopped: { nil })
        guard expect.contains(response.status) else { throw Self.refusal(response) }
        return response.body
    }

    /// Sends `request` with the token: again with a fresh token after a `401`, again after a
    /// `429`'s wait (three times).
    private func exchange(
        _ request: HTTPRequest, stopped: () -> KubernetesError?
    ) async throws(KubernetesError) -> HTTPResponse {
        var throttled = 0
        var reread = false
        while true {
            var signed = request
            signed.headers.append("Authorization", "Bearer " + (try token.current(fresh: reread)))
            let response: HTTPResponse
            do {
                response = try await transport.send(signed)
            } catch {
                if error.code == .stopped, let reason = stopped() { throw reason }
                if error.code == .stopped { return HTTPResponse(status: 200, headers: [], body: []) }
                throw KubernetesError.unreachable(error)
            }
            if response.status == 401, !reread {
                reread = true
                continue
            }
            if response.status == 429, throttled < 3 {
                throttled += 1
                await sleep(Self.retryAfter(response) ?? .seconds(1))
                continue
            }
            return response
        }
    }

    /// A `Retry-After` in whole seconds, at most 30.
    static func retryAfter(_ response: HTTPResponse) -> Duration? {
        guard let text = response.header("Retry-After"), let seconds = Int(text), seconds >= 0 else { return nil }
        return .seconds(min(seconds, 30))
    }

    static func refusal(_ response: HTTPResponse) -> KubernetesError {
        let status = try? JSONDecoder().decode(Status.self, from: Data(response.body))
        return KubernetesError(
            code: response.status, reason: status?.reason ?? "Unknown",
            message: status?.message ?? "the Kubernetes API answered \(response.status)",
            retryAfter: retryAfter(response))
    }

    private func decode<Object: Decodable>(_ type: Object.Type, _ body: [UInt8]) throws(KubernetesError) -> Object {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw KubernetesError.unreadable("a document that is not the \(type) asked for: \(error)")
        }
    }
}

/// Set once a watch's reader has gone: the transport ends the stream at its next look.
private final class StopFlag: Sendable {
    private let flag = Mutex(false)
    var raised: Bool { flag.withLock { $0 } }
    func raise() { flag.withLock { $0 = true } }
}

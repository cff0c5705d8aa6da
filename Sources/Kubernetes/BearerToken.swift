import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The token the client presents: a fixed one (a kubeconfig's `token`), or a file read again
/// every minute and after a `401` (the service account's projected token, which the kubelet
/// replaces before it expires).
public final class BearerToken: Sendable {
    private enum Source {
        case fixed(String)
        case file(String)
    }

    private let source: Source
    private let cached = Mutex<(token: String, readAt: ContinuousClock.Instant)?>(nil)
    static let rereadEvery: Duration = .seconds(60)

    public static func fixed(_ token: String) -> BearerToken { BearerToken(.fixed(token)) }
    public static func file(_ path: String) -> BearerToken { BearerToken(.file(path)) }

    private init(_ source: Source) {
        self.source = source
    }

    /// The token to send; `fresh` reads the file again whatever its age.
    func current(fresh: Bool = false) throws(KubernetesError) -> String {
        switch source {
        case .fixed(let token):
            return token
        case .file(let path):
            let now = ContinuousClock.now
            if !fresh, let cached = cached.withLock({ $0 }), now - cached.readAt < Self.rereadEvery {
                return cached.token
            }
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)), data.count <= 64 << 10,
                let text = String(data: data, encoding: .utf8)
            else {
                throw KubernetesError(code: 0, reason: "NoToken", message: "cannot read the token file \(path)")
            }
            let token = String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
            guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw KubernetesError(code: 0, reason: "NoToken", message: "the token file \(path) holds no token")
            }
            cached.withLock { $0 = (token, now) }
            return token
        }
    }
}

import AWSSigning
import CryptoPrimitives
import Synchronization

/// The instance-metadata listener's IMDSv2 session tokens: random, held in memory, bounded in
/// number, each expiring after the TTL it was asked for.
///
/// Tokens are kept as their SHA-256, so a lookup's timing says nothing about a stored token.
///
/// Thread-safety: a `Mutex`.
public final class MetadataSessions: Sendable {
    /// The longest TTL a client may ask for, in seconds (the EC2 service's limit).
    public static let longestTTL = 21600
    /// The most tokens held at once; past it the one expiring first is dropped.
    public let capacity: Int

    private let sessions = Mutex<[String: Duration]>([:])
    private let uptime: MonotonicClock

    /// Creates an empty store.
    public init(capacity: Int = 1024, uptime: MonotonicClock = .system) {
        self.capacity = max(1, capacity)
        self.uptime = uptime
    }

    /// A new token valid for `ttl` seconds (1 to `longestTTL`).
    /// - Throws: `CryptoError` if OpenSSL cannot produce random bytes.
    public func issue(ttl: Int) throws(CryptoError) -> String {
        let token = Hex.encode(try SecureRandom.bytes(count: 32))
        let now = uptime.now
        let expiry = now + .seconds(min(max(ttl, 1), Self.longestTTL))
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value > now }
            if sessions.count >= capacity, let first = sessions.min(by: { $0.value < $1.value }) {
                sessions[first.key] = nil
            }
            sessions[Self.key(token)] = expiry
        }
        return token
    }

    /// Whether `token` was issued here and has not expired.
    public func isValid(_ token: String) -> Bool {
        let now = uptime.now
        let key = Self.key(token)
        return sessions.withLock { sessions in
            guard let expiry = sessions[key] else { return false }
            guard expiry > now else {
                sessions[key] = nil
                return false
            }
            return true
        }
    }

    /// The number of tokens held (expired ones included until the next issue).
    public var count: Int { sessions.withLock { $0.count } }

    private static func key(_ token: String) -> String {
        Hex.encode(SHA256.hash(Array(token.utf8)))
    }
}

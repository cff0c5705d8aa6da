#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One event of a watch.
public enum WatchEvent<Object: Decodable & Sendable>: Sendable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    /// The watch has seen everything up to this resourceVersion (nothing changed for the selector).
    case bookmark(resourceVersion: String)
    /// The API server ended the watch with a Status; `410` (`isExpired`) means list again.
    case error(KubernetesError)

    private struct Head: Decodable {
        var type: String
    }

    private struct Body<Value: Decodable>: Decodable {
        var object: Value
    }

    /// One line of a watch's stream.
    static func decode(_ line: [UInt8]) throws(KubernetesError) -> WatchEvent {
        let data = Data(line)
        let decoder = JSONDecoder()
        do {
            switch try decoder.decode(Head.self, from: data).type {
            case "ADDED": return .added(try decoder.decode(Body<Object>.self, from: data).object)
            case "MODIFIED": return .modified(try decoder.decode(Body<Object>.self, from: data).object)
            case "DELETED": return .deleted(try decoder.decode(Body<Object>.self, from: data).object)
            case "BOOKMARK":
                let version = try decoder.decode(Body<Metadata>.self, from: data).object.metadata.resourceVersion
                guard let version else { throw KubernetesError.unreadable("a bookmark without a resourceVersion") }
                return .bookmark(resourceVersion: version)
            case "ERROR":
                let status = try decoder.decode(Body<Status>.self, from: data).object
                return .error(
                    KubernetesError(
                        code: status.code ?? 500, reason: status.reason ?? "Unknown",
                        message: status.message ?? "the watch ended with an error"))
            case let other:
                throw KubernetesError.unreadable("a watch event of an unknown type (\(other.prefix(32)))")
            }
        } catch let error as KubernetesError {
            throw error
        } catch {
            throw KubernetesError.unreadable("a watch event that is not one: \(error)")
        }
    }
}

/// Splits a stream of bytes into lines (newline-delimited JSON), whatever the pieces it comes
/// in: a line may be split across pieces, a piece may hold many lines.
final class LineSplitter: @unchecked Sendable {
    /// The longest line kept: a watch event of a Job is a few KiB.
    static let maxLine = 4 << 20
    private var pending: [UInt8] = []

    /// The lines `bytes` completes; nil when a line outgrows `maxLine`.
    /// Thread-safety: called from the transport's one thread for a transfer, in order.
    func lines(_ bytes: UnsafeRawBufferPointer) -> [[UInt8]]? {
        var lines: [[UInt8]] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            pending.append(contentsOf: bytes[start..<index])
            if !pending.isEmpty { lines.append(pending) }
            pending = []
            start = index + 1
        }
        pending.append(contentsOf: bytes[start...])
        return pending.count > Self.maxLine ? nil : lines
    }
}

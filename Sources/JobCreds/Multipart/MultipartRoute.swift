import CryptoPrimitives
import MicroHTTPServer

/// A multipart path and method, as sent: `/v1/artifacts/{name}/multipart` (`POST`),
/// `…/multipart/{id}/parts` (`GET`), `…/multipart/{id}/complete` (`POST`) and `…/multipart/{id}`
/// (`DELETE`).
struct MultipartRoute {
    enum Action: Equatable {
        case create
        case parts(id: String)
        case complete(id: String)
        case abort(id: String)

        var method: String {
            switch self {
            case .create, .complete: "POST"
            case .parts: "GET"
            case .abort: "DELETE"
            }
        }
    }

    var artifact: Substring
    var action: Action

    /// The route of `path`, or nil when it is no multipart path.
    init?(path: String) {
        let prefix = "/v1/artifacts/"
        guard path.hasPrefix(prefix) else { return nil }
        let segments = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 2, !segments[0].isEmpty, segments[1] == "multipart" else { return nil }
        artifact = segments[0]
        switch segments.count {
        case 2: action = .create
        case 3 where !segments[2].isEmpty: action = .abort(id: String(segments[2]))
        case 4 where segments[3] == "parts" && !segments[2].isEmpty: action = .parts(id: String(segments[2]))
        case 4 where segments[3] == "complete" && !segments[2].isEmpty: action = .complete(id: String(segments[2]))
        default: return nil
        }
    }

    /// The most bytes an object may have (S3's limit for a multipart upload).
    static let maxLength: UInt64 = 5 << 40
    static let partSizes: ClosedRange<UInt64> = (5 << 20)...(5 << 30)

    /// The create's `?length=N&part_size=P`, or why not.
    static func creation(_ query: [QueryItem]) -> (length: UInt64, partSize: UInt64)? {
        guard query.count == 2, let length = number(query, "length"), let partSize = number(query, "part_size"),
            (1...maxLength).contains(length), partSizes.contains(partSize), (length + partSize - 1) / partSize <= 10_000
        else { return nil }
        return (length, partSize)
    }

    /// The parts' `?first=N&sha256=HEX,HEX…` (1 to 32 checksums), or nil.
    static func parts(_ query: [QueryItem]) -> (first: Int, sha256: [[UInt8]])? {
        guard query.count == 2, let first = number(query, "first"), (1...10_000).contains(first),
            let list = query.first(where: { $0.name == "sha256" })?.value
        else { return nil }
        let sums = list.split(separator: ",", omittingEmptySubsequences: false).map { Hex.decode(String($0)) }
        guard (1...MultipartUploads.maxBatch).contains(sums.count), sums.allSatisfy({ $0?.count == 32 }) else {
            return nil
        }
        return (Int(first), sums.compactMap { $0 })
    }

    private static func number(_ query: [QueryItem], _ name: String) -> UInt64? {
        guard let text = query.first(where: { $0.name == name })?.value, (1...16).contains(text.utf8.count),
            text.utf8.allSatisfy({ (48...57).contains($0) })
        else { return nil }
        return UInt64(text)
    }
}

import HTTPTransport

/// Where the sidecar listens: `HOST:PORT` or `[IPv6]:PORT`, restricted to the addresses the AWS
/// SDKs will send plain-HTTP credential requests to.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// The literal address, without brackets.
    public var host: String
    /// The port (0 picks a free one).
    public var port: UInt16

    /// The addresses beside loopback that the SDKs accept for `http://` (ECS and EKS).
    public static let linkLocalCredentialHosts = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23"]

    /// Parses and validates `text`.
    /// - Throws: `JobCredsError.usage` naming what is accepted.
    public init(_ text: String) throws(JobCredsError) {
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw Self.invalid(text)
            }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { throw Self.invalid(text) }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard let portNumber = UInt16(port) else { throw Self.invalid(text) }
        let normalized = host.lowercased()
        let isLoopbackV4 = normalized.hasPrefix("127.") && EndpointURL.isLoopback(host: normalized)
        guard isLoopbackV4 || normalized == "::1" || Self.linkLocalCredentialHosts.contains(normalized) else {
            throw JobCredsError(
                .usage,
                "--listen \(text) is not an address the AWS SDKs send credential requests to over plain HTTP; "
                    + "use a loopback address (127.0.0.0/8 or [::1]), 169.254.170.2, 169.254.170.23 or [fd00:ec2::23]")
        }
        self.host = normalized
        self.port = portNumber
    }

    /// An address already validated (the bound form of a parsed one).
    init(unchecked host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// `127.0.0.1:9911` or `[::1]:9911`.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private static func invalid(_ text: String) -> JobCredsError {
        JobCredsError(.usage, "--listen \(text) is not HOST:PORT (e.g. 127.0.0.1:9911 or [::1]:9911)")
    }
}

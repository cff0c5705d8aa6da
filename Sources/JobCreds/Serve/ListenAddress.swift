import AWSIdentity
import Glibc
import HTTPCore

/// Where the sidecar listens: `HOST:PORT` or `[IPv6]:PORT`, restricted to the addresses the AWS
/// SDKs will send plain-HTTP credential requests to.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// The literal address, without brackets.
    public var host: String
    /// The port (0 picks a free one).
    public var port: UInt16

    /// Where `serve` listens, and `probe` asks, unless told otherwise.
    public static let defaultText = "127.0.0.1:9911"

    /// Parses and validates `text`.
    /// - Throws: `JobCredsError.usage` naming what is accepted.
    /// - Parameter option: the option named in a refusal (`--listen`, `--imds-listen`).
    public init(_ text: String, option: String = "--listen") throws(JobCredsError) {
        let (host, port) = try Self.split(text, option: option)
        let others = ContainerProvider.plainHTTPHosts
        guard URLHost.isLoopbackAddress(host) || others.contains(host) else {
            let named = others.map(URLHost.bracketed)
            throw JobCredsError(
                .usage,
                "\(option) \(text) is not an address the AWS SDKs send credential requests to over plain HTTP; "
                    + "use a loopback address (127.0.0.0/8 or [::1]), \(named.dropLast().joined(separator: ", ")) "
                    + "or \(named.last ?? "")")
        }
        self.host = host
        self.port = port
    }

    /// Parses the address of a listener that serves nothing secret (`--metrics-listen`): any
    /// literal IPv4 or IPv6 address, `0.0.0.0` and `[::]` included, so Prometheus can reach it.
    /// - Throws: `JobCredsError.usage` naming what is accepted.
    public static func anyHost(_ text: String, option: String) throws(JobCredsError) -> ListenAddress {
        let (host, port) = try split(text, option: option)
        var v4 = in_addr()
        var v6 = in6_addr()
        guard inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 else {
            throw JobCredsError(
                .usage, "\(option) \(text) needs a literal IP address (e.g. 0.0.0.0:9912 or [::]:9912), not a name")
        }
        return ListenAddress(unchecked: host, port: port)
    }

    /// `HOST:PORT` or `[IPv6]:PORT` into a lowercased host and a port.
    private static func split(_ text: String, option: String) throws(JobCredsError) -> (String, UInt16) {
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw invalid(text, option: option)
            }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw invalid(text, option: option)
            }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard let portNumber = UInt16(port), !host.isEmpty else { throw invalid(text, option: option) }
        return (host.lowercased(), portNumber)
    }

    /// An address already validated (the bound form of a parsed one).
    public init(unchecked host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// `127.0.0.1:9911` or `[::1]:9911`.
    public var description: String {
        "\(URLHost.bracketed(host)):\(port)"
    }

    private static func invalid(_ text: String, option: String) -> JobCredsError {
        JobCredsError(.usage, "\(option) \(text) is not HOST:PORT (e.g. 127.0.0.1:9911 or [::1]:9911)")
    }
}

import HTTPCore

/// An `http://` or `https://` URL split into the parts a client needs: scheme, host, port, path
/// and query. Parsed by hand so that the rules are visible and identical on every platform.
public struct EndpointURL: Sendable, Equatable, CustomStringConvertible {
    /// `http` or `https`.
    public var scheme: String
    /// The host without brackets: `example.com`, `127.0.0.1`, `::1`.
    public var host: String
    /// The port, if the URL names one.
    public var port: Int?
    /// The path, `/` when empty.
    public var path: String
    /// The query without `?`, empty for none.
    public var query: String

    /// Parses `text`.
    /// - Returns: nil unless it is an absolute http(s) URL with a host and no user info.
    public init?(_ text: String) {
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            scheme = "https"
            rest = text.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            scheme = "http"
            rest = text.dropFirst(7)
        } else {
            return nil
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.isEmpty, !authority.contains("@"), !authority.contains(" ") else { return nil }
        var remainder = rest[authorityEnd...]
        if let fragment = remainder.firstIndex(of: "#") { remainder = remainder[..<fragment] }
        if let question = remainder.firstIndex(of: "?") {
            path = String(remainder[..<question])
            query = String(remainder[remainder.index(after: question)...])
        } else {
            path = String(remainder)
            query = ""
        }
        if path.isEmpty { path = "/" }

        let hostPart: Substring
        let portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { return nil }
            portPart = after.isEmpty ? nil : after.dropFirst()
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        } else {
            hostPart = authority
            portPart = nil
        }
        guard !hostPart.isEmpty else { return nil }
        host = hostPart.lowercased()
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else { return nil }
            port = value
        } else {
            port = nil
        }
    }

    /// The `Host` header value: the host, bracketed if IPv6, with the port unless it is the
    /// scheme's default.
    public var hostHeader: String {
        let name = URLHost.bracketed(host)
        guard let port, port != (scheme == "https" ? 443 : 80) else { return name }
        return "\(name):\(port)"
    }

    /// The URL, rebuilt.
    public var description: String {
        "\(scheme)://\(hostHeader)\(path)\(query.isEmpty ? "" : "?" + query)"
    }

    /// Whether `host` is on the loopback interface (`URLHost.isLoopback`).
    public var isLoopback: Bool {
        URLHost.isLoopback(host)
    }
}

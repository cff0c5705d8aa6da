/// Hosts as URLs, `Host` headers and listen addresses write them, and what counts as loopback:
/// the rules the listen address check, the request gate's `Host` check and the "plain `http://`
/// to loopback only" rule share.
public enum URLHost {
    /// `host` as a URL writes it: an IPv6 address in brackets (`[::1]`), anything else as it is.
    public static func bracketed(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }

    /// Whether `host` is a literal loopback address as written in a listen address: IPv4
    /// `127.0.0.0/8` in dotted-quad form, or `::1`.
    public static func isLoopbackAddress(_ host: String) -> Bool {
        if host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// Whether `host` (without brackets, any case) names the loopback interface in a URL: a
    /// loopback address, its uncompressed IPv6 spelling `0:0:0:0:0:0:0:1`, or `localhost`.
    public static func isLoopback(_ host: String) -> Bool {
        let name = host.lowercased()
        return isLoopbackAddress(name) || name == "localhost" || name == "0:0:0:0:0:0:0:1"
    }
}

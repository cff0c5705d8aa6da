import Glibc

/// An IPv4 or IPv6 socket address built from a literal (nothing is ever resolved).
struct SocketAddress: CustomStringConvertible {
    private var storage = sockaddr_storage()
    let isIPv6: Bool
    let description: String

    /// Parses `host` (`127.0.0.1`, `::1`) and `port`.
    /// - Throws: `ServerError` if `host` is not a literal address.
    init(host: String, port: UInt16) throws(ServerError) {
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &storage) { out in withUnsafeBytes(of: v4) { out.copyMemory(from: $0) } }
            isIPv6 = false
            description = "\(host):\(port)"
        } else if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &storage) { out in withUnsafeBytes(of: v6) { out.copyMemory(from: $0) } }
            isIPv6 = true
            description = "[\(host)]:\(port)"
        } else {
            throw ServerError(.invalidAddress, "'\(host)' is not a literal IPv4 or IPv6 address")
        }
    }

    /// The length of the address `withSockaddr` hands out.
    var length: socklen_t {
        socklen_t(isIPv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
    }

    /// Calls `body` with a pointer to the address, valid only during the call.
    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>) -> Result) -> Result {
        withUnsafePointer(to: storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1, body)
        }
    }

    /// The text before the first NUL of a C buffer.
    private static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `a.b.c.d` for an IPv4 address in host order (what `inet_ntop` writes, without its buffer).
    static func dottedQuad(_ address: UInt32) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(15)
        for shift in [24, 16, 8, 0] as [UInt32] {
            if shift != 24 { bytes.append(UInt8(ascii: ".")) }
            let octet = UInt8(truncatingIfNeeded: address >> shift)
            if octet >= 100 { bytes.append(UInt8(ascii: "0") + octet / 100) }
            if octet >= 10 { bytes.append(UInt8(ascii: "0") + octet / 10 % 10) }
            bytes.append(UInt8(ascii: "0") + octet % 10)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `(address, port)` of a socket address MHD reports.
    static func describe(_ address: UnsafePointer<sockaddr>) -> (String, Int) {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                (dottedQuad(UInt32(bigEndian: v4.pointee.sin_addr.s_addr)), Int(UInt16(bigEndian: v4.pointee.sin_port)))
            }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                var ip = v6.pointee.sin6_addr
                inet_ntop(AF_INET6, &ip, &text, socklen_t(text.count))
                return (string(text), Int(UInt16(bigEndian: v6.pointee.sin6_port)))
            }
        default:
            return ("unknown", 0)
        }
    }
}

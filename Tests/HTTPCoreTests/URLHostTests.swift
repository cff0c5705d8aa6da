import HTTPCore
import Testing

@Suite struct URLHostTests {
    @Test func knowsLoopback() {
        for host in ["127.0.0.1", "127.5.6.7", "localhost", "::1"] {
            #expect(URLHost.isLoopback(host), "\(host)")
        }
        for host in ["128.0.0.1", "127.0.0.1.evil.com", "169.254.170.2", "localhost.evil.com", "10.0.0.1"] {
            #expect(!URLHost.isLoopback(host), "\(host)")
        }
    }

    /// A listen address is a literal: `localhost` and the long IPv6 spelling are names a URL may
    /// use, not addresses to bind.
    @Test func aLoopbackAddressIsALiteral() {
        #expect(URLHost.isLoopbackAddress("127.0.0.1") && URLHost.isLoopbackAddress("::1"))
        #expect(!URLHost.isLoopbackAddress("localhost") && !URLHost.isLoopbackAddress("0:0:0:0:0:0:0:1"))
        #expect(URLHost.isLoopback("0:0:0:0:0:0:0:1") && URLHost.isLoopback("LOCALHOST"))
    }

    @Test func bracketsIPv6() {
        #expect(URLHost.bracketed("::1") == "[::1]")
        #expect(URLHost.bracketed("127.0.0.1") == "127.0.0.1")
    }
}

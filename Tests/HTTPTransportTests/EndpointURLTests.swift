import HTTPTransport
import Testing

@Suite struct EndpointURLTests {
    @Test func parsesTheParts() throws {
        let url = try #require(EndpointURL("https://Example.com:8443/a/b?x=1#frag"))
        #expect(url.scheme == "https" && url.host == "example.com" && url.port == 8443)
        #expect(url.path == "/a/b" && url.query == "x=1")
        #expect(url.hostHeader == "example.com:8443")
        #expect(url.description == "https://example.com:8443/a/b?x=1")
        #expect(EndpointURL("https://example.com:443")?.hostHeader == "example.com")
        #expect(EndpointURL("http://[::1]:9911/v1")?.host == "::1")
        #expect(EndpointURL("http://[::1]:9911/v1")?.hostHeader == "[::1]:9911")
    }

    @Test(arguments: [
        "ftp://x", "https://", "https://user@host/", "https://host:0", "https://host:70000", "host/path",
        "https://[::1",
    ])
    func refusesWhatIsNotAnHTTPEndpoint(_ text: String) {
        #expect(EndpointURL(text) == nil)
    }
}

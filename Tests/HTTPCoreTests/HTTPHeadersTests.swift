import HTTPCore
import Testing

@Suite struct HTTPHeadersTests {
    @Test func namesCompareCaseInsensitivelyAndRepeatsAreKept() {
        var headers: HTTPHeaders = [("Host", "a"), ("X-Thing", "1"), ("x-thing", "2")]
        #expect(headers["host"] == "a" && headers["HOST"] == "a")
        #expect(headers.values("X-THING") == ["1", "2"])
        #expect(headers["missing"] == nil && !headers.contains("missing") && headers.contains("x-Thing"))
        headers.set("X-Thing", "3")
        #expect(headers.values("x-thing") == ["3", "2"])
        headers.set("New", "n")
        headers.remove("X-THING")
        #expect(headers.map(\.name) == ["Host", "New"])
    }

    /// Only ASCII letters fold: names are tokens, and `[` (0x5B) is not `{` (0x7B) in another case.
    @Test func onlyASCIILettersFold() {
        #expect(HTTPHeaders.sameName("Content-Length", "content-length"))
        #expect(!HTTPHeaders.sameName("[", "{"))
        #expect(!HTTPHeaders.sameName("a", "ab"))
        #expect(!HTTPHeaders.sameName("É", "é"))
    }
}

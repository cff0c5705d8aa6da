import JobCreds
import Testing

@Suite struct RequestIDsTests {
    /// `PREFIX-NNNNNN`: eight hex digits of the process, then the counter, zero-padded to six
    /// digits and never cut past them.
    @Test func idsArePrefixDashCounter() throws {
        let ids = RequestIDs()
        let first = ids.next()
        let parts = first.split(separator: "-")
        try #require(parts.count == 2)
        #expect(parts[0].count == 8 && parts[0].allSatisfy(\.isHexDigit))
        #expect(parts[1] == "000001")
        #expect(ids.next() == "\(parts[0])-000002")
        for _ in 3...1_000_000 { _ = ids.next() }
        #expect(ids.next() == "\(parts[0])-1000001")
        #expect(RequestIDs().next().prefix(8) != parts[0] || RequestIDs().next().prefix(8) != parts[0])
    }
}

import Foundation
import JobCreds
import Testing

@Suite struct ListenAddressTests {
    @Test(arguments: [
        ("127.0.0.1:9911", "127.0.0.1:9911"), ("127.1.2.3:0", "127.1.2.3:0"), ("[::1]:9911", "[::1]:9911"),
        ("169.254.170.2:80", "169.254.170.2:80"), ("169.254.170.23:80", "169.254.170.23:80"),
        ("[fd00:ec2::23]:80", "[fd00:ec2::23]:80"), ("[FD00:EC2::23]:80", "[fd00:ec2::23]:80"),
    ])
    func acceptsWhatTheSDKsUse(_ text: String, _ normalized: String) throws {
        #expect(try ListenAddress(text).description == normalized)
    }

    @Test(arguments: [
        "0.0.0.0:9911", "10.0.0.1:9911", "[::]:9911", "169.254.169.254:80", "localhost:9911", "127.0.0.1",
        "127.0.0.1:65536", ":9911", "[::1]9911", "::1:9911", "127.0.0.256:1", "128.0.0.1:1",
    ])
    func refusesEverythingElse(_ text: String) {
        #expect {
            _ = try ListenAddress(text)
        } throws: { ($0 as? JobCredsError)?.code == .usage }
    }
}

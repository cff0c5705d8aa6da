import AWSSigning
import Testing

@Suite struct CredentialsRedactionTests {
    @Test func printsNeitherSecretNorToken() {
        let credentials = Credentials(
            accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "CANARY-SECRET-1", sessionToken: "CANARY-TOKEN-1")
        var dumped = ""
        dump(credentials, to: &dumped)
        let renderings = [
            "\(credentials)", String(describing: credentials), String(reflecting: credentials), dumped,
            "\([credentials])", "\(Optional(credentials) as Any)",
        ]
        for text in renderings {
            #expect(!text.contains("CANARY"), "\(text)")
        }
        #expect("\(credentials)" == "AKIA…MPLE (redacted)")
    }
}

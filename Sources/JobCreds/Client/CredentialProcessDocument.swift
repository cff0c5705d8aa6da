import AWSSigning

/// The answer of a `credential_process` program, as the shared config file's readers (botocore,
/// the Ruby, Java, Go, .NET and Rust SDKs) parse it: `{"Version": 1, "AccessKeyId",
/// "SecretAccessKey", "SessionToken", "Expiration"}`.
public enum CredentialProcessDocument {
    /// The document for `credentials`.
    public static func render(_ credentials: Credentials) -> String {
        JSONText.object([
            ("Version", "1"),
            ("AccessKeyId", JSONText.quote(credentials.accessKeyId)),
            ("SecretAccessKey", JSONText.quote(credentials.secretAccessKey)),
            ("SessionToken", credentials.sessionToken.map(JSONText.quote)),
            ("Expiration", credentials.expiration.map { JSONText.quote(AWSDate.iso8601($0)) }),
        ])
    }
}

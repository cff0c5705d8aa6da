import AWSSigning
import Foundation
import Testing

/// Query-string signing against the example in Amazon S3's own documentation.
@Suite struct PresignTests {
    /// "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)", the example
    /// `GET /test.txt` from `examplebucket`, valid for a day.
    @Test func theS3DocumentationExample() {
        let signer = SigV4Signer(
            credentials: Credentials(
                accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "s3", normalizesPath: false)
        let presigned = signer.presign(
            method: "GET", scheme: "https", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", expires: 86400,
            at: Date(timeIntervalSince1970: 1_369_353_600))
        #expect(
            presigned.canonicalRequest == """
                GET
                /test.txt
                X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host
                host:examplebucket.s3.amazonaws.com

                host
                UNSIGNED-PAYLOAD
                """)
        #expect(presigned.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(
            presigned.url
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    /// A signed header the holder must send, and a session token, travel in the query.
    @Test func signedHeadersAndTheSessionTokenAreInTheQuery() {
        let signer = SigV4Signer(
            credentials: Credentials(accessKeyId: "ASIA1", secretAccessKey: "s", sessionToken: "tok/en+="),
            region: "eu-west-1", service: "s3", normalizesPath: false)
        let presigned = signer.presign(
            method: "PUT", scheme: "https", host: "s3.eu-west-1.amazonaws.com", path: "/b/a b/../k",
            headers: [("x-amz-server-side-encryption", "aws:kms")], expires: 60, at: Date(timeIntervalSince1970: 0))
        #expect(presigned.url.hasPrefix("https://s3.eu-west-1.amazonaws.com/b/a%20b/../k?"))
        #expect(presigned.url.contains("&X-Amz-SignedHeaders=host%3Bx-amz-server-side-encryption&"))
        #expect(presigned.url.contains("&X-Amz-Security-Token=tok%2Fen%2B%3D&X-Amz-Signature="))
        #expect(presigned.canonicalRequest.contains("\nx-amz-server-side-encryption:aws:kms\n"))
    }
}

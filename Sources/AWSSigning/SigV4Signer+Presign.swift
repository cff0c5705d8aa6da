import CryptoPrimitives
import HTTPCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Query-string signing (a presigned URL): the signature and its parameters travel in the URL,
/// and whoever holds the URL may make exactly the signed request until it expires.
///
/// [Reference](https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html)
extension SigV4Signer {
    /// A presigned request.
    public struct Presigned: Sendable {
        /// The URL, with `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
        /// `X-Amz-SignedHeaders`, `X-Amz-Security-Token` (if any) and `X-Amz-Signature`.
        public var url: String
        /// The canonical request text.
        public var canonicalRequest: String
        /// The string to sign.
        public var stringToSign: String
        /// The hex signature.
        public var signature: String
    }

    /// The payload line of a presigned request: the body is not known when the URL is made.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Presigns a request the way S3 checks it: the path encoded once (`/` kept), not normalised;
    /// `host` and `headers` signed, so the holder must send those headers with those values.
    /// - Parameters:
    ///   - host: the `Host` header value (`bucket.s3.us-east-1.amazonaws.com`, or with a port).
    ///   - path: the path, not yet encoded (`/bucket/key` or `/key`).
    ///   - headers: the headers to sign besides `Host`.
    ///   - query: the operation's own parameters (`partNumber`, `uploadId`), not yet encoded; they
    ///     lead the URL's query as botocore puts them, and are signed with the rest.
    ///   - expires: seconds the URL stays valid after `date` (1 to 604800).
    public func presign(
        method: String, scheme: String, host: String, path: String, query extra: [(String, String)] = [],
        headers: HTTPHeaders = [], expires: Int, at date: Date
    ) -> Presigned {
        let timestamp = AWSDate.amzTimestamp(date)
        let scope = credentialScope(date)
        var signed: HTTPHeaders = [("Host", host)]
        for (name, value) in headers { signed.append(name, value) }
        let signedHeaders = Self.canonicalHeaders(signed).map(\.name).joined(separator: ";")
        var parameters: [(String, String)] =
            extra + [
                ("X-Amz-Algorithm", Self.algorithm), ("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope)"),
                ("X-Amz-Date", timestamp), ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", signedHeaders),
            ]
        if let token = credentials.sessionToken { parameters.append(("X-Amz-Security-Token", token)) }
        let query = parameters.map { "\(URIEncoding.encode($0.0))=\(URIEncoding.encode($0.1))" }.joined(separator: "&")
        let canonical = canonicalRequest(
            Request(method: method, path: path, query: query, headers: signed), payloadHash: Self.unsignedPayload)
        let toSign = stringToSign(canonicalRequest: canonical.text, timestamp: timestamp, scope: scope)
        let key = Self.signingKey(
            secretAccessKey: credentials.secretAccessKey, dateStamp: AWSDate.dateStamp(date), region: region,
            service: service)
        let signature = Hex.encode(HMACSHA256.authenticate(toSign, key: key))
        let url = "\(scheme)://\(host)\(canonicalURI(path))?\(query)&X-Amz-Signature=\(signature)"
        return Presigned(url: url, canonicalRequest: canonical.text, stringToSign: toSign, signature: signature)
    }
}

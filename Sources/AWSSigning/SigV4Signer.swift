import CryptoPrimitives
import HTTPCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// AWS Signature Version 4, as a pure value: no I/O, no clock; the date is a parameter.
///
/// Each stage is a method named after the stage in the specification, so tests can check them
/// one by one against the official vectors:
/// [canonical request](https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request),
/// [string to sign](https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-string-to-sign),
/// [signing key](https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#derive-signing-key),
/// [signature](https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#calculate-signature).
///
/// Thread-safety: a value type with no shared state.
public struct SigV4Signer: Sendable {
    /// The request to sign, as it will go on the wire.
    public struct Request: Sendable {
        /// `GET`, `POST`, ...
        public var method: String
        /// The path, as sent (it is encoded once more when canonicalised, as SigV4 requires for
        /// every service but S3).
        public var path: String
        /// The raw query string, without `?`; empty for none.
        public var query: String
        /// Headers to sign, in order. `Authorization` is never signed.
        public var headers: HTTPHeaders
        /// The body.
        public var body: [UInt8]

        /// Creates a request.
        public init(
            method: String, path: String, query: String = "", headers: HTTPHeaders,
            body: [UInt8] = []
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }
    }

    /// The outcome of signing: every intermediate stage and the headers to send.
    public struct Signed: Sendable {
        /// The canonical request text.
        public var canonicalRequest: String
        /// The string to sign.
        public var stringToSign: String
        /// The hex signature.
        public var signature: String
        /// The `Authorization` header value.
        public var authorization: String
        /// The request's headers plus `X-Amz-Date`, `X-Amz-Security-Token` (if any) and
        /// `Authorization`: what goes on the wire.
        public var headers: HTTPHeaders
    }

    /// The key that signs.
    public var credentials: Credentials
    /// The region, e.g. `us-east-1`.
    public var region: String
    /// The signing name of the service, e.g. `codepipeline`.
    public var service: String
    /// Whether the path is normalised (`.`/`..` removed, repeated `/` collapsed); S3 alone says no.
    public var normalizesPath: Bool
    /// Whether `X-Amz-Security-Token` is part of the signature (true for every current service);
    /// when false it is added after signing.
    public var signsSessionToken: Bool

    /// Creates a signer.
    public init(
        credentials: Credentials, region: String, service: String, normalizesPath: Bool = true,
        signsSessionToken: Bool = true
    ) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.normalizesPath = normalizesPath
        self.signsSessionToken = signsSessionToken
    }

    static let algorithm = "AWS4-HMAC-SHA256"

    /// Signs `request` as of `date`.
    public func sign(_ request: Request, at date: Date) -> Signed {
        let timestamp = AWSDate.amzTimestamp(date)
        var headers = request.headers
        headers.remove("Authorization")
        headers.set("X-Amz-Date", timestamp)
        let hasTokenHeader = headers.contains("X-Amz-Security-Token")
        if let token = credentials.sessionToken, signsSessionToken, !hasTokenHeader {
            headers.append("X-Amz-Security-Token", token)
        }
        var toSign = request
        toSign.headers = headers
        let canonical = canonicalRequest(toSign)
        let scope = credentialScope(date)
        let toSignText = stringToSign(canonicalRequest: canonical.text, timestamp: timestamp, scope: scope)
        let key = Self.signingKey(
            secretAccessKey: credentials.secretAccessKey, dateStamp: AWSDate.dateStamp(date), region: region,
            service: service)
        let signature = Hex.encode(HMACSHA256.authenticate(toSignText, key: key))
        let authorization =
            "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(scope), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
        if let token = credentials.sessionToken, !signsSessionToken, !hasTokenHeader {
            headers.append("X-Amz-Security-Token", token)
        }
        headers.append("Authorization", authorization)
        return Signed(
            canonicalRequest: canonical.text, stringToSign: toSignText, signature: signature,
            authorization: authorization, headers: headers)
    }

    // MARK: - Stages

    /// Task 1: the canonical request and the list of signed headers.
    /// - Parameter payloadHash: the payload's line; nil for the hex SHA-256 of the body
    ///   (`UNSIGNED-PAYLOAD` in a presigned URL).
    public func canonicalRequest(
        _ request: Request, payloadHash: String? = nil
    ) -> (text: String, signedHeaders: String) {
        let headers = Self.canonicalHeaders(request.headers)
        let signedHeaders = headers.map(\.name).joined(separator: ";")
        let text = [
            request.method.uppercased(),
            canonicalURI(request.path),
            Self.canonicalQuery(request.query),
            headers.map { "\($0.name):\($0.value)\n" }.joined(),
            signedHeaders,
            payloadHash ?? Hex.encode(SHA256.hash(request.body)),
        ].joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// Task 2: the string to sign.
    public func stringToSign(canonicalRequest: String, timestamp: String, scope: String) -> String {
        [Self.algorithm, timestamp, scope, Hex.encode(SHA256.hash(canonicalRequest))].joined(separator: "\n")
    }

    /// `20150830/us-east-1/service/aws4_request`.
    public func credentialScope(_ date: Date) -> String {
        "\(AWSDate.dateStamp(date))/\(region)/\(service)/aws4_request"
    }

    /// Task 3: the signing key, derived from the secret by four chained HMACs.
    public static func signingKey(
        secretAccessKey: String, dateStamp: String, region: String, service: String
    )
        -> [UInt8]
    {
        let kDate = HMACSHA256.authenticate(dateStamp, key: Array("AWS4\(secretAccessKey)".utf8))
        let kRegion = HMACSHA256.authenticate(region, key: kDate)
        let kService = HMACSHA256.authenticate(service, key: kRegion)
        return HMACSHA256.authenticate("aws4_request", key: kService)
    }

    // MARK: - Canonical parts

    /// The path, normalised (unless S3) and URI-encoded with `/` kept.
    func canonicalURI(_ path: String) -> String {
        let raw = path.isEmpty ? "/" : path
        guard normalizesPath else { return URIEncoding.encode(raw, keepSlash: true) }
        var segments: [Substring] = []
        for segment in raw.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        var normalized = "/" + segments.joined(separator: "/")
        if raw.hasSuffix("/"), normalized != "/" { normalized += "/" }
        return URIEncoding.encode(normalized, keepSlash: true)
    }

    /// Query parameters decoded, re-encoded, and sorted by name then value.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = URIEncoding.encode(URIEncoding.decode(parts[0]))
            let value = parts.count > 1 ? URIEncoding.encode(URIEncoding.decode(parts[1])) : ""
            return (name, value)
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Names lower-cased and sorted; values trimmed with inner runs of white space folded to one
    /// space; repeated names joined with `,` in order.
    static func canonicalHeaders(_ headers: HTTPHeaders) -> HTTPHeaders {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let key = name.lowercased()
            if key == "authorization" { continue }
            if values[key] == nil { order.append(key) }
            values[key, default: []].append(foldWhitespace(value))
        }
        return HTTPHeaders(order.sorted().map { (name: $0, value: values[$0, default: []].joined(separator: ",")) })
    }

    private static func foldWhitespace(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            .joined(separator: " ")
    }
}

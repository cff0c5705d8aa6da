import AWSSigning

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The JSON the container endpoint and the instance metadata service answer with:
/// `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "Code"?}`.
struct CredentialsDocument: Decodable {
    var Code: String?
    var AccessKeyId: String?
    var SecretAccessKey: String?
    var Token: String?
    var Expiration: String?

    /// Decodes `body` into credentials.
    /// - Throws: `IdentityError.malformedResponse` naming what is missing; never echoing the body.
    static func credentials(from body: [UInt8], provider: String) throws(IdentityError) -> Credentials {
        let document: CredentialsDocument
        do {
            document = try JSONDecoder().decode(CredentialsDocument.self, from: Data(body))
        } catch {
            throw IdentityError(.malformedResponse, provider: provider, "the endpoint's answer is not JSON credentials")
        }
        if let code = document.Code, code != "Success" {
            throw IdentityError(
                .denied, provider: provider, "the endpoint answered Code=\(sanitizedCode(code)) instead of Success",
                isRetryable: true)
        }
        guard let keyId = document.AccessKeyId, !keyId.isEmpty, let secret = document.SecretAccessKey,
            !secret.isEmpty
        else {
            throw IdentityError(
                .malformedResponse, provider: provider, "the endpoint's answer lacks AccessKeyId or SecretAccessKey")
        }
        var expiration: Date? = nil
        if let text = document.Expiration {
            guard let date = AWSDate.parseISO8601(text) else {
                throw IdentityError(
                    .malformedResponse, provider: provider, "the endpoint's Expiration is not an ISO 8601 date")
            }
            expiration = date
        }
        return Credentials(
            accessKeyId: keyId, secretAccessKey: secret, sessionToken: document.Token.flatMap { $0.isEmpty ? nil : $0 },
            expiration: expiration)
    }
}

/// An error code from a peer, cut down to letters, digits and `._-` and 64 characters, so that
/// it can go into a message without carrying anything else.
func sanitizedCode(_ code: String) -> String {
    let kept = code.unicodeScalars.filter { scalar in
        scalar.isASCII
            && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "._-".unicodeScalars.contains(scalar))
    }
    return String(String.UnicodeScalarView(kept.prefix(64)))
}

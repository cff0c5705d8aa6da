import CodePipeline
import JobCreds

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `--client-tokens FILE`: a JSON object mapping each `clientId` to its client token, a secret
/// file checked as a token file is (regular, the worker's user or root, readable and writable
/// by no one else).
enum ClientTokens {
    static func read(_ path: String) throws(JobCredsError) -> [String: ClientToken] {
        let bytes = try TrustedFile.read(
            path, rules: .init(what: "the client tokens file", othersMayRead: false), limit: 1024 * 1024)
        guard let object = try? JSONDecoder().decode([String: String].self, from: Data(bytes)) else {
            throw JobCredsError(.usage, "the client tokens file \(path) is not a JSON object of clientId to token")
        }
        var tokens: [String: ClientToken] = [:]
        for (clientId, text) in object {
            guard let token = try? ClientToken(text) else {
                throw JobCredsError(
                    .usage,
                    "the client tokens file \(path): the token of a client is not 1 to 256 characters on one "
                        + "line (the file's content is not shown)")
            }
            tokens[clientId] = token
        }
        return tokens
    }
}

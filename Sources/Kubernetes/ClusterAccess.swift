import Yams

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Where the API server is and how to be let in: in the cluster, the service account's token,
/// CA and namespace (`KUBERNETES_SERVICE_HOST`/`_PORT`); outside it, a kubeconfig's context.
///
/// Only bearer tokens: a kubeconfig's `token` or `tokenFile`. Client certificates and `exec`
/// plugins are refused by name, and so is `insecure-skip-tls-verify` (certificates are always
/// verified).
public struct ClusterAccess: Sendable {
    /// `https://HOST:PORT`.
    public var server: String
    /// The CA bundle to trust the API server by (a file); nil for the system's.
    public var caBundle: String?
    public var token: BearerToken
    /// The service account's namespace, or the context's.
    public var namespace: String?

    /// What a pod's service account is given.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Access from inside a pod.
    public static func inCluster(
        environment: [String: String], directory: String = serviceAccountDirectory
    ) throws(KubernetesError) -> ClusterAccess {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], let number = Int(port), (1...65535).contains(number)
        else {
            throw refusal(
                "not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (give --kubeconfig)")
        }
        guard host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "@") })
        else { throw refusal("KUBERNETES_SERVICE_HOST is not a host") }
        let token = directory + "/token"
        guard access(token, R_OK) == 0 else { throw refusal("cannot read the service account token \(token)") }
        let namespace = try? String(contentsOfFile: directory + "/namespace", encoding: .utf8)
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return ClusterAccess(
            server: "https://\(bracketed):\(number)", caBundle: directory + "/ca.crt", token: .file(token),
            namespace: namespace.map { String($0.filter { !$0.isWhitespace }) })
    }

    /// Access through a kubeconfig file's `context` (else its `current-context`); a CA given as
    /// `certificate-authority-data` is written to a private file in `temporaryDirectory`.
    public static func kubeconfig(
        _ path: String, context wanted: String? = nil, temporaryDirectory: String = "/tmp"
    ) throws(KubernetesError) -> ClusterAccess {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 4 << 20,
            let text = String(data: data, encoding: .utf8)
        else { throw refusal("cannot read the kubeconfig \(path)") }
        let config: Kubeconfig
        do {
            config = try YAMLDecoder().decode(Kubeconfig.self, from: text)
        } catch {
            throw refusal("the kubeconfig \(path) is not one: \(error)")
        }
        guard let name = wanted ?? config.currentContext, !name.isEmpty else {
            throw refusal("the kubeconfig \(path) names no current-context (give --context)")
        }
        guard let context = config.contexts?.first(where: { $0.name == name })?.value else {
            throw refusal("the kubeconfig \(path) has no context \(name)")
        }
        guard let cluster = config.clusters?.first(where: { $0.name == context.cluster })?.value else {
            throw refusal("the kubeconfig's context \(name) names a cluster it does not define")
        }
        guard let user = config.users?.first(where: { $0.name == context.user })?.value else {
            throw refusal("the kubeconfig's context \(name) names a user it does not define")
        }
        guard cluster.server.hasPrefix("https://") else {
            throw refusal(
                "the kubeconfig's cluster \(context.cluster) is not https:// (certificates are always verified)")
        }
        guard cluster.insecureSkipTLSVerify != true else {
            throw refusal(
                "the kubeconfig's cluster \(context.cluster) asks to skip TLS verification; jobcreds never does")
        }
        let base = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let relative = { (file: String) in file.hasPrefix("/") ? file : (base.isEmpty ? "." : base) + "/" + file }
        var caBundle = cluster.certificateAuthority.map(relative)
        if caBundle == nil, let encoded = cluster.certificateAuthorityData {
            guard let pem = Data(base64Encoded: encoded) else {
                throw refusal("the kubeconfig's certificate-authority-data is not base64")
            }
            caBundle = try privateFile(pem, in: temporaryDirectory)
        }
        let token: BearerToken
        if let fixed = user.token {
            token = .fixed(fixed)
        } else if let file = user.tokenFile {
            token = .file(relative(file))
        } else if user.exec != nil {
            throw refusal(
                "the kubeconfig's user \(context.user) runs an exec plugin, which jobcreds does not; give a token")
        } else if user.clientCertificate != nil || user.clientCertificateData != nil {
            throw refusal(
                "the kubeconfig's user \(context.user) uses a client certificate, which jobcreds does not; give a token"
            )
        } else {
            throw refusal("the kubeconfig's user \(context.user) has no token or tokenFile")
        }
        return ClusterAccess(
            server: cluster.server.hasSuffix("/") ? String(cluster.server.dropLast()) : cluster.server,
            caBundle: caBundle, token: token, namespace: context.namespace)
    }

    private static func refusal(_ message: String) -> KubernetesError {
        KubernetesError(code: 0, reason: "NoAccess", message: message)
    }

    /// `bytes` in a new file only this user can read; its path.
    private static func privateFile(_ bytes: Data, in directory: String) throws(KubernetesError) -> String {
        var template = Array((directory + "/jobcreds-kube-ca-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkstemp($0) } ?? -1
        }
        guard descriptor >= 0 else { throw refusal("cannot write the cluster's CA to \(directory)") }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw refusal("cannot write the cluster's CA to \(directory)") }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The part of a kubeconfig read here.
    private struct Kubeconfig: Decodable {
        struct Named<Value: Decodable>: Decodable {
            var name: String
            var value: Value
            enum CodingKeys: String, CodingKey { case name, cluster, user, context }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                name = try container.decode(String.self, forKey: .name)
                let key = [CodingKeys.cluster, .user, .context].first { container.contains($0) }
                guard let key else {
                    throw DecodingError.keyNotFound(
                        CodingKeys.cluster, .init(codingPath: container.codingPath, debugDescription: "no entry"))
                }
                value = try container.decode(Value.self, forKey: key)
            }
        }

        struct Cluster: Decodable {
            var server: String
            var certificateAuthority: String?
            var certificateAuthorityData: String?
            var insecureSkipTLSVerify: Bool?
            enum CodingKeys: String, CodingKey {
                case server
                case certificateAuthority = "certificate-authority"
                case certificateAuthorityData = "certificate-authority-data"
                case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            }
        }

        struct User: Decodable {
            var token: String?
            var tokenFile: String?
            var clientCertificate: String?
            var clientCertificateData: String?
            var exec: Exec?
            struct Exec: Decodable {}
            enum CodingKeys: String, CodingKey {
                case token, tokenFile, exec
                case clientCertificate = "client-certificate"
                case clientCertificateData = "client-certificate-data"
            }
        }

        struct Context: Decodable {
            var cluster: String
            var user: String
            var namespace: String?
        }

        var clusters: [Named<Cluster>]?
        var users: [Named<User>]?
        var contexts: [Named<Context>]?
        var currentContext: String?
        enum CodingKeys: String, CodingKey {
            case clusters, users, contexts
            case currentContext = "current-context"
        }
    }
}

import Foundation
import Kubernetes
import TestSupport
import Testing

@Suite struct ClusterAccessTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-access-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func refusal(_ body: () throws -> ClusterAccess) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? KubernetesError)?.message
        }
    }

    @Test func inAPodTheServiceAccountsTokenCAAndNamespace() throws {
        _ = try write("token", "projected-token\n")
        _ = try write("ca.crt", "-----BEGIN CERTIFICATE-----\n")
        _ = try write("namespace", "builds\n")
        let access = try ClusterAccess.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"],
            directory: directory.path)
        #expect(access.server == "https://10.96.0.1:443" && access.namespace == "builds")
        #expect(access.caBundle == directory.path + "/ca.crt")
        let six = try ClusterAccess.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"],
            directory: directory.path)
        #expect(six.server == "https://[fd00::1]:6443")
        #expect(
            refusal { try ClusterAccess.inCluster(environment: [:], directory: directory.path) }?.contains(
                "KUBERNETES_SERVICE_HOST") == true)
        #expect(
            refusal {
                try ClusterAccess.inCluster(
                    environment: ["KUBERNETES_SERVICE_HOST": "evil@host/x", "KUBERNETES_SERVICE_PORT": "443"],
                    directory: directory.path)
            } != nil)
    }

    @Test func aKubeconfigsContextWithItsCAAndToken() throws {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        let path = try write(
            "config",
            """
            apiVersion: v1
            kind: Config
            current-context: dev
            clusters:
            - name: a
              cluster:
                server: https://api.example.test:6443/
                certificate-authority-data: \(Data(pem.utf8).base64EncodedString())
            - name: b
              cluster:
                server: https://other.example.test
                certificate-authority: certs/b.pem
            users:
            - name: deployer
              user:
                token: a-static-token
            - name: projected
              user:
                tokenFile: tokens/worker
            contexts:
            - name: dev
              context: {cluster: a, user: deployer, namespace: builds}
            - name: other
              context: {cluster: b, user: projected}
            """)
        let dev = try ClusterAccess.kubeconfig(path, temporaryDirectory: directory.path)
        #expect(dev.server == "https://api.example.test:6443" && dev.namespace == "builds")
        let ca = try #require(dev.caBundle)
        #expect(try String(contentsOfFile: ca, encoding: .utf8) == pem)
        let mode = try FileManager.default.attributesOfItem(atPath: ca)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let other = try ClusterAccess.kubeconfig(path, context: "other", temporaryDirectory: directory.path)
        #expect(other.caBundle == directory.path + "/certs/b.pem" && other.namespace == nil)
        #expect(refusal { try ClusterAccess.kubeconfig(path, context: "nope") }?.contains("no context nope") == true)
    }

    @Test(arguments: [
        ("server: http://plain.example.test", "token: t", "is not https://"),
        ("server: https://x.test\n    insecure-skip-tls-verify: true", "token: t", "skip TLS verification"),
        ("server: https://x.test", "exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}", "exec plugin"),
        ("server: https://x.test", "client-certificate-data: AAAA", "client certificate"),
        ("server: https://x.test", "username: admin", "no token"),
    ])
    func whatJobcredsDoesNotDoIsRefusedByName(cluster: String, user: String, expected: String) throws {
        let path = try write(
            "config-\(UUID())",
            """
            current-context: c
            clusters: [{name: k, cluster: {}}]
            users: [{name: u, user: {}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            """.replacing("cluster: {}", with: "cluster: {\(cluster.replacing("\n    ", with: ", "))}").replacing(
                "user: {}", with: "user: {\(user)}"))
        let message = refusal { try ClusterAccess.kubeconfig(path) }
        #expect(message?.contains(expected) == true, "\(message ?? "accepted")")
    }
}

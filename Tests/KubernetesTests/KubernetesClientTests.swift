import CurlHTTP
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Kubernetes

/// The client against the fake API server (IntegrationTests/fake_kube.py), which kubectl and the
/// official Python client check in IntegrationTests/test_fake_kube.py.
@Suite(.serialized, PythonClients.required) struct KubernetesClientTests {
    let fake: FakeKubeProcess
    let jobs = ResourcePath.jobs(in: "builds")
    static let token = "worker-token-0123456789abcdef"

    init() async throws {
        fake = try FakeKubeProcess.shared.get()
        try await fake.control("/_control/reset")
        try await fake.control("/_control/tokens", "{\"\(Self.token)\": \"worker\"}")
    }

    static func job(_ name: String, labels: String = "\"app.kubernetes.io/managed-by\": \"jobcreds-worker\"") -> [UInt8]
    {
        Array(
            """
            {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "\(name)", "labels": {\(labels)}},
             "spec": {"suspend": true, "backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
               "containers": [{"name": "build", "image": "busybox", "command": ["true"]}]}}}}
            """.utf8)
    }

    @Test func createGetListInPagesPatchAndDeleteAsTheAPIDefinesThem() async throws {
        let client = fake.client(token: .fixed(Self.token))
        var created: [Metadata] = []
        for index in 0..<5 { created.append(try await client.create(jobs, Self.job("cp-\(index)"))) }
        #expect(Set(created.compactMap(\.metadata.uid)).count == 5)
        await #expect { _ = try await client.create(jobs, Self.job("cp-0"), as: Metadata.self) } throws: {
            ($0 as? KubernetesError)?.isAlreadyExists == true
        }
        let (all, version) = try await client.listAll(
            jobs, labelSelector: "app.kubernetes.io/managed-by=jobcreds-worker", pageSize: 2, as: Metadata.self)
        #expect(all.compactMap(\.metadata.name) == (0..<5).map { "cp-\($0)" })
        #expect(Int(version) ?? 0 > 1000)
        let first = created[1].metadata
        let patched: Metadata = try await client.mergePatch(
            jobs, "cp-1",
            Array(
                "{\"metadata\":{\"resourceVersion\":\"\(first.resourceVersion ?? "")\"},\"spec\":{\"suspend\":false}}"
                    .utf8))
        #expect(patched.metadata.generation == 2)
        await #expect {
            _ = try await client.mergePatch(
                jobs, "cp-1", Array("{\"metadata\":{\"resourceVersion\":\"\(first.resourceVersion ?? "")\"}}".utf8),
                as: Metadata.self)
        } throws: { ($0 as? KubernetesError)?.isConflict == true }
        await #expect { try await client.delete(jobs, "cp-1", uid: created[2].metadata.uid) } throws: {
            ($0 as? KubernetesError)?.isConflict == true
        }
        try await client.delete(jobs, "cp-1", uid: first.uid)
        await #expect { _ = try await client.get(jobs, "cp-1", as: Metadata.self) } throws: {
            ($0 as? KubernetesError)?.isNotFound == true
        }
    }

    @Test func aBadObjectIsRefusedWithTheAPIsReasonAndADryRunStoresNothing() async throws {
        let client = fake.client(token: .fixed(Self.token))
        let bad = Array(
            String(decoding: Self.job("cp-bad"), as: UTF8.self).replacing(
                "\"backoffLimit\": 0", with: "\"backoffLimit\": \"none\""
            ).utf8)
        await #expect { _ = try await client.create(jobs, bad, as: Metadata.self) } throws: { error in
            let error = error as? KubernetesError
            return error?.code == 422 && error?.reason == "Invalid" && error?.message.contains("backoffLimit") == true
        }
        let unknown = Array(
            String(decoding: Self.job("cp-unknown"), as: UTF8.self).replacing("\"suspend\"", with: "\"suspended\"").utf8
        )
        await #expect { _ = try await client.create(jobs, unknown, as: Metadata.self) } throws: {
            ($0 as? KubernetesError)?.code == 400
        }
        let dry: Metadata = try await client.create(jobs, Self.job("cp-dry"), dryRun: true)
        #expect(dry.metadata.name == "cp-dry")
        #expect(try await client.listAll(jobs, as: Metadata.self).items.isEmpty)
    }

    @Test func aWatchFromAVersionSeesEveryChangeInOrderAcrossSplitChunksWithBookmarks() async throws {
        try await fake.control("/_control/settings", "{\"split_chunks\": true, \"bookmark_seconds\": 0.3}")
        let client = fake.client(token: .fixed(Self.token))
        let _: Metadata = try await client.create(jobs, Self.job("cp-before"))
        let (_, version) = try await client.listAll(jobs, as: Metadata.self)
        let changes = Task {
            try await Task.sleep(for: .milliseconds(500))
            let _: Metadata = try await client.create(jobs, Self.job("cp-w"))
            let _: Metadata = try await client.mergePatch(
                jobs, "cp-w", Array("{\"spec\":{\"activeDeadlineSeconds\":600}}".utf8))
            let _: Metadata = try await client.create(jobs, Self.job("cp-other", labels: "\"app\": \"other\""))
            try await client.delete(jobs, "cp-w")
        }
        var seen: [String] = []
        var bookmarks = 0
        let stream = client.watch(
            jobs, labelSelector: "app.kubernetes.io/managed-by=jobcreds-worker", resourceVersion: version,
            timeoutSeconds: 4, as: Metadata.self)
        for try await event in stream {
            switch event {
            case .added(let job): seen.append("ADDED \(job.metadata.name ?? "")")
            case .modified(let job): seen.append("MODIFIED \(job.metadata.name ?? "")")
            case .deleted(let job): seen.append("DELETED \(job.metadata.name ?? "")")
            case .bookmark: bookmarks += 1
            case .error(let error): Issue.record("an error event: \(error)")
            }
            if seen.count == 3 { break }
        }
        try await changes.value
        #expect(seen == ["ADDED cp-w", "MODIFIED cp-w", "DELETED cp-w"])
        #expect(bookmarks >= 1)
    }

    @Test func aWatchWhoseReaderStopsEndsWithoutWaitingForTheServer() async throws {
        try await fake.control("/_control/settings", "{\"bookmark_seconds\": 60}")
        let client = fake.client(token: .fixed(Self.token))
        let (_, version) = try await client.listAll(jobs, as: Metadata.self)
        let started = ContinuousClock.now
        let reader = Task {
            for try await _ in client.watch(jobs, resourceVersion: version, timeoutSeconds: 30, as: Metadata.self) {}
        }
        try await Task.sleep(for: .milliseconds(300))
        reader.cancel()
        _ = await reader.result
        try await Task.sleep(for: .seconds(2))
        let watches = try JSONDecoder().decode(
            [Request].self, from: Data(try await fake.control("/_control/requests", ""))
        )
        .filter { $0.query["watch"] == "1" }
        #expect(watches.count == 1 && ContinuousClock.now - started < .seconds(5))
        let open = String(decoding: try await fake.control("/_control/open_watches", ""), as: UTF8.self)
        #expect(open == "0", "the stream was closed: \(open)")
    }

    struct Request: Decodable {
        var query: [String: String]
    }

    @Test func aWatchFromAVersionPastTheHistoryEndsWith410() async throws {
        let client = fake.client(token: .fixed(Self.token))
        let _: Metadata = try await client.create(jobs, Self.job("cp-old"))
        let (_, version) = try await client.listAll(jobs, as: Metadata.self)
        let _: Metadata = try await client.mergePatch(jobs, "cp-old", Array("{\"spec\":{\"suspend\":false}}".utf8))
        try await fake.control("/_control/compact", "{\"keep\": 0}")
        var expired = false
        for try await event in client.watch(jobs, resourceVersion: version, timeoutSeconds: 2, as: Metadata.self) {
            if case .error(let error) = event { expired = error.isExpired }
        }
        #expect(expired)
    }

    @Test func a429WaitsItsRetryAfterAndA401ReadsTheTokenFileAgain() async throws {
        let waits = Mutex<[Duration]>([])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        try Data(Self.token.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let client = fake.client(token: .file(file.path)) { wait in waits.withLock { $0.append(wait) } }
        try await fake.control(
            "/_control/faults",
            "[{\"verb\": \"create\", \"resource\": \"jobs\", \"status\": 429, \"reason\": \"TooManyRequests\", \"retry_after\": 2, \"count\": 2}]"
        )
        let _: Metadata = try await client.create(jobs, Self.job("cp-throttled"))
        #expect(waits.withLock { $0 } == [.seconds(2), .seconds(2)])
        // The kubelet replaces the token; the API server stops taking the old one.
        try Data("rotated-token-0123456789abcdef".utf8).write(to: file)
        try await fake.control("/_control/tokens", "{\"rotated-token-0123456789abcdef\": \"worker\"}")
        let got: Metadata = try await client.get(jobs, "cp-throttled")
        #expect(got.metadata.name == "cp-throttled")
        try await fake.control("/_control/tokens", "{}")
        await #expect { _ = try await client.get(jobs, "cp-throttled", as: Metadata.self) } throws: {
            ($0 as? KubernetesError)?.code == 401
        }
    }

    @Test func aKubeconfigForTheFakeReachesIt() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeconfig-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("config")
        try Data(
            """
            current-context: fake
            clusters: [{name: fake, cluster: {server: "\(fake.url)", certificate-authority: "\(fake.caBundle)"}}]
            users: [{name: w, user: {token: \(Self.token)}}]
            contexts: [{name: fake, context: {cluster: fake, user: w, namespace: builds}}]
            """.utf8
        ).write(to: path)
        let access = try ClusterAccess.kubeconfig(path.path)
        let client = KubernetesClient(
            server: access.server, transport: CurlTransport(settings: .init(caBundle: access.caBundle)),
            token: access.token)
        let _: Metadata = try await fake.client(token: .fixed(Self.token)).create(jobs, Self.job("cp-seen"))
        let (items, _) = try await client.listAll(.jobs(in: access.namespace ?? "default"), as: Metadata.self)
        #expect(items.compactMap(\.metadata.name) == ["cp-seen"])
    }

    @Test func linesAreSplitWhateverThePiecesTheyComeIn() {
        let splitter = LineSplitter()
        func feed(_ text: String) -> [String]? {
            Array(text.utf8).withUnsafeBytes { splitter.lines($0) }?.map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(feed("{\"a\":") == [])
        #expect(feed("1}\n{\"b\":2}\n{\"c\"") == ["{\"a\":1}", "{\"b\":2}"])
        #expect(feed(":3}\n\n") == ["{\"c\":3}"])
        #expect(feed(String(repeating: "x", count: LineSplitter.maxLine + 1)) == nil)
    }
}

// swift-tools-version:6.2
import PackageDescription

/// jobcreds builds on Linux only (Glibc, prctl, epoll, eventfd and sock_diag in the accept loop).
///
/// The module graph: each module and what it imports, highest first. Arrows point one way; C never
/// appears in a public signature; each C library has one wrapper. `scripts/module-graph.py` (the
/// lint step) fails when this list, the targets below or the sources' imports disagree.
///
///   jobcreds           JobWorker, Artifacts, JobCreds, CodePipeline, CurlHTTP, HTTPTransport, ArgumentParser,
///                      Logging
///   JobWorker          Artifacts, JobCreds, CodePipeline, AWSIdentity, AWSSigning, MicroHTTPServer,
///                      HTTPTransport, CryptoPrimitives, CProcessSpawn, Logging, Prometheus
///   JobCreds           CodePipeline, AWSIdentity, AWSSigning, MicroHTTPServer, HTTPTransport, HTTPCore,
///                      CryptoPrimitives, CProcessShims, Logging, Prometheus
///   Artifacts          Archive, AWSSigning, HTTPTransport, HTTPCore, CryptoPrimitives
///   Archive            CArchive
///   CodePipeline       AWSSigning, HTTPTransport, Logging
///   Kubernetes         HTTPTransport, HTTPCore, Yams
///   AWSIdentity        AWSSigning, HTTPTransport, HTTPCore, Logging
///   AWSSigning         CryptoPrimitives, HTTPCore
///   CurlHTTP           HTTPTransport, HTTPCore, CCurl, CCurlShims
///   MicroHTTPServer    HTTPCore, CMicroHTTPD, CMicroHTTPDShims
///   HTTPTransport      HTTPCore
///   HTTPCore           (nothing)
///   CryptoPrimitives   COpenSSL
///   CCurlShims         CCurl
///   CMicroHTTPDShims   CMicroHTTPD
///   CArchive           (nothing)
///   CProcessShims      (nothing)
///   CProcessSpawn      (nothing)
///
/// jobcreds: the command line, wiring, exit statuses. JobWorker: the job worker (poll, take, run,
/// report; the journal; the local executor, a sidecar per job). Artifacts: `artifacts pull|push` (the
/// archive check, extraction through descriptors, the tree walk, transfers through the sidecar's
/// URLs). Archive: the zip central-directory check, libarchive's readers and zip writer. JobCreds: the sidecar (check, serve; the
/// audited layer, the pure router, the cache, audit, metrics). CodePipeline: the client and the
/// allowlisted projection. Kubernetes: the few API calls the worker makes (create, get, list,
/// merge-patch, delete, watch), JSON over the transport. AWSIdentity: the worker's own credential chain. AWSSigning: SigV4 as
/// pure values, AWS dates, clocks, the credentials-source seam. HTTPTransport: the client's
/// transport protocol and retries. HTTPCore: header fields and host rules for client, server and
/// signer, RFC 3986 percent-encoding. CurlHTTP, MicroHTTPServer, CryptoPrimitives, Archive: the only code that touches
/// libcurl, libmicrohttpd, OpenSSL and libarchive.
let strictSwift: [SwiftSetting] = [
    .swiftLanguageMode(.v6)
]

let package = Package(
    name: "jobcreds",
    products: [
        .executable(name: "jobcreds", targets: ["jobcreds"]),
        // For Fuzz/, the libFuzzer targets (a package of their own, built with -sanitize=fuzzer).
        .library(
            name: "JobCredsCore",
            targets: [
                "JobCreds", "CodePipeline", "MicroHTTPServer", "AWSSigning", "AWSIdentity", "CryptoPrimitives",
                "HTTPCore", "HTTPTransport", "Archive", "Artifacts",
            ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        // The Prometheus text format and its registry (counters, gauges, histograms) without Foundation.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // kubeconfig files are YAML; a YAML parser is not a thing to write by hand.
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C libraries, as Debian ships them, and typed wrappers for what Swift cannot call:
        // one shim per library, imported only by that library's wrapper.
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(
            name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .target(name: "CCurlShims", dependencies: ["CCurl"]),
        .target(name: "CMicroHTTPDShims", dependencies: ["CMicroHTTPD"]),
        .target(name: "CProcessShims"),
        .target(name: "CProcessSpawn"),

        // Swift modules, lowest first.
        .target(name: "CryptoPrimitives", dependencies: ["COpenSSL"], swiftSettings: strictSwift),
        .target(name: "HTTPCore", swiftSettings: strictSwift),
        .target(name: "HTTPTransport", dependencies: ["HTTPCore"], swiftSettings: strictSwift),
        .target(
            name: "CurlHTTP", dependencies: ["HTTPCore", "HTTPTransport", "CCurl", "CCurlShims"],
            swiftSettings: strictSwift),
        .target(
            name: "MicroHTTPServer", dependencies: ["HTTPCore", "CMicroHTTPD", "CMicroHTTPDShims"],
            swiftSettings: strictSwift),
        .target(name: "AWSSigning", dependencies: ["CryptoPrimitives", "HTTPCore"], swiftSettings: strictSwift),
        .target(
            name: "AWSIdentity",
            dependencies: [
                "AWSSigning", "HTTPCore", "HTTPTransport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift),
        .target(name: "Archive", dependencies: ["CArchive"], swiftSettings: strictSwift),
        .target(
            name: "Artifacts",
            dependencies: ["Archive", "AWSSigning", "HTTPTransport", "HTTPCore", "CryptoPrimitives"],
            swiftSettings: strictSwift),
        .target(
            name: "Kubernetes", dependencies: ["HTTPCore", "HTTPTransport", .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSwift),
        .target(
            name: "CodePipeline",
            dependencies: ["AWSSigning", "HTTPTransport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift),
        .target(
            name: "JobCreds",
            dependencies: [
                "CodePipeline", "AWSIdentity", "AWSSigning", "HTTPCore", "HTTPTransport", "CryptoPrimitives",
                "MicroHTTPServer", "CProcessShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSwift),
        .target(
            name: "JobWorker",
            dependencies: [
                "Artifacts", "JobCreds", "CodePipeline", "AWSIdentity", "AWSSigning", "HTTPTransport",
                "CryptoPrimitives", "MicroHTTPServer", "CProcessSpawn", .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSwift),
        .executableTarget(
            name: "jobcreds",
            dependencies: [
                "JobWorker", "Artifacts", "JobCreds", "CodePipeline", "CurlHTTP", "HTTPTransport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift),

        // Tests: one target per module; TestSupport holds the fakes of the lower modules' seams.
        .target(
            name: "TestSupport",
            dependencies: ["AWSSigning", "HTTPTransport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport", swiftSettings: strictSwift),
        .testTarget(
            name: "CryptoPrimitivesTests", dependencies: ["CryptoPrimitives"], swiftSettings: strictSwift),
        .testTarget(name: "HTTPCoreTests", dependencies: ["HTTPCore"], swiftSettings: strictSwift),
        .testTarget(
            name: "AWSSigningTests", dependencies: ["AWSSigning", "HTTPCore", "TestSupport"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "AWSIdentityTests", dependencies: ["AWSIdentity", "AWSSigning", "HTTPTransport", "TestSupport"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "CodePipelineTests",
            dependencies: ["CodePipeline", "AWSSigning", "HTTPTransport", "TestSupport"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "JobCredsTests",
            dependencies: [
                "JobCreds", "CodePipeline", "AWSSigning", "HTTPCore", "MicroHTTPServer", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "JobWorkerTests", dependencies: ["JobWorker", "JobCreds", "CodePipeline", "TestSupport"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "ArtifactsTests", dependencies: ["Artifacts", "Archive", "TestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "MicroHTTPServerTests", dependencies: ["MicroHTTPServer", "CurlHTTP", "HTTPTransport"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "HTTPTransportTests", dependencies: ["HTTPTransport", "TestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "KubernetesTests", dependencies: ["Kubernetes", "CurlHTTP", "HTTPTransport", "TestSupport"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "CurlHTTPTests", dependencies: ["CurlHTTP", "HTTPTransport", "TestSupport"],
            swiftSettings: strictSwift),
    ]
)

// swift-tools-version:6.2
import PackageDescription

/// jobcreds builds on Linux only (Glibc, prctl, epoll through libmicrohttpd).
///
/// The module graph, drawn from the imports (`scripts/module-graph.py` checks that every target
/// declares exactly what it imports; arrows point one way; C never appears in a public signature):
///
///   jobcreds (executable: command line, wiring, exit statuses)
///     ├── JobCreds (the sidecar: check, serve; the audited layer, the pure router, cache, audit, metrics)
///     │     ├── CodePipeline (client, models, the allowlisted projection)
///     │     │     ├── AWSSigning (SigV4 as pure values; AWS dates, clocks, the credentials-source seam)
///     │     │     └── HTTPTransport
///     │     ├── AWSIdentity (the worker's own credential chain) ── AWSSigning, HTTPTransport
///     │     ├── MicroHTTPServer (the only code that touches libmicrohttpd) ── CMicroHTTPD, CMicroHTTPDShims
///     │     └── CProcessShims (prctl)
///     └── CurlHTTP (the only code that touches libcurl) ── CCurl, CCurlShims
///   HTTPTransport (the client's Sendable transport protocol, retries) ── HTTPCore
///   HTTPCore (header fields and host rules, shared by client, server and signer)
///   CryptoPrimitives (the only code that touches OpenSSL) ── COpenSSL
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
                "HTTPCore",
            ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        // The Prometheus text format and its registry (counters, gauges, histograms) without Foundation.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries, as Debian ships them, and typed wrappers for what Swift cannot call:
        // one shim per library, imported only by that library's wrapper.
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .target(name: "CCurlShims", dependencies: ["CCurl"]),
        .target(name: "CMicroHTTPDShims", dependencies: ["CMicroHTTPD"]),
        .target(name: "CProcessShims"),

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
        .executableTarget(
            name: "jobcreds",
            dependencies: [
                "JobCreds", "CurlHTTP", "HTTPTransport",
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
                "JobCreds", "CodePipeline", "AWSSigning", "CryptoPrimitives", "HTTPCore", "MicroHTTPServer",
                "TestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "MicroHTTPServerTests", dependencies: ["MicroHTTPServer", "CurlHTTP", "HTTPTransport"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "HTTPTransportTests", dependencies: ["HTTPTransport", "TestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "CurlHTTPTests", dependencies: ["CurlHTTP", "HTTPTransport", "TestSupport"],
            swiftSettings: strictSwift),
    ]
)

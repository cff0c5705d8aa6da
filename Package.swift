// swift-tools-version:6.2
import PackageDescription

/// Module graph (arrows point one way; C never appears in a public signature):
///
///   jobcreds (executable: CLI wiring only)
///     └── JobCreds (the sidecar's use cases: check, serve)
///           ├── CodePipeline (client, models, allowlisted projection)
///           │     ├── AWSSigning (SigV4: pure values, no I/O)
///           │     └── AWSIdentity (the worker's own credential chain)
///           ├── HTTPTransport (the small Sendable protocol every HTTP user sees)
///           └── CurlHTTP (the only code that touches libcurl)
///   CryptoPrimitives is the only code that touches OpenSSL.
let strictSwift: [SwiftSetting] = [
    .swiftLanguageMode(.v6)
]

let package = Package(
    name: "jobcreds",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "jobcreds", targets: ["jobcreds"]),
        // For Fuzz/, the libFuzzer targets (a package of their own, built with -sanitize=fuzzer).
        .library(
            name: "JobCredsCore",
            targets: ["JobCreds", "CodePipeline", "MicroHTTPServer", "AWSSigning", "AWSIdentity", "CryptoPrimitives"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        // The Prometheus text format and its registry (counters, gauges, histograms) without Foundation.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries, as Debian ships them.
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        // Typed wrappers for the variadic C functions Swift cannot call.
        .target(name: "CJobCredsShims", dependencies: ["CCurl", "CMicroHTTPD"]),

        // Swift modules, lowest first.
        .target(name: "CryptoPrimitives", dependencies: ["COpenSSL"], swiftSettings: strictSwift),
        .target(name: "HTTPTransport", swiftSettings: strictSwift),
        .target(
            name: "CurlHTTP", dependencies: ["HTTPTransport", "CCurl", "CJobCredsShims"],
            swiftSettings: strictSwift),
        .target(
            name: "MicroHTTPServer", dependencies: ["CMicroHTTPD", "CJobCredsShims"], swiftSettings: strictSwift),
        .target(name: "AWSSigning", dependencies: ["CryptoPrimitives"], swiftSettings: strictSwift),
        .target(
            name: "AWSIdentity",
            dependencies: ["AWSSigning", "HTTPTransport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift),
        .target(
            name: "CodePipeline",
            dependencies: [
                "AWSSigning", "AWSIdentity", "HTTPTransport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift),
        .target(
            name: "JobCreds",
            dependencies: [
                "CodePipeline", "AWSIdentity", "AWSSigning", "HTTPTransport", "CryptoPrimitives", "MicroHTTPServer",
                "CJobCredsShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSwift),
        .executableTarget(
            name: "jobcreds",
            dependencies: [
                "JobCreds", "CodePipeline", "AWSIdentity", "CurlHTTP", "HTTPTransport", "MicroHTTPServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift),

        // Tests.
        .target(
            name: "TestSupport",
            dependencies: [
                "HTTPTransport", "AWSSigning", "AWSIdentity", "JobCreds",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport", swiftSettings: strictSwift),
        .testTarget(
            name: "CryptoPrimitivesTests", dependencies: ["CryptoPrimitives"], swiftSettings: strictSwift),
        .testTarget(
            name: "AWSSigningTests", dependencies: ["AWSSigning", "TestSupport"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "AWSIdentityTests", dependencies: ["AWSIdentity", "AWSSigning", "HTTPTransport", "TestSupport"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "CodePipelineTests",
            dependencies: ["CodePipeline", "AWSIdentity", "AWSSigning", "HTTPTransport", "TestSupport"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "JobCredsTests",
            dependencies: ["JobCreds", "CodePipeline", "AWSIdentity", "AWSSigning", "MicroHTTPServer", "TestSupport"],
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

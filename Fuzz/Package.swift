// swift-tools-version:6.2
import PackageDescription

/// libFuzzer targets for jobcreds. Built only with `scripts/fuzz` (-sanitize=fuzzer,address);
/// they have no `main` of their own: libFuzzer provides it.
let package = Package(
    name: "jobcreds-fuzz",
    dependencies: [
        .package(name: "jobcreds", path: ".."), .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    ],
    targets: [
        .target(name: "FuzzSupport", swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "FuzzDecoder", dependencies: ["FuzzSupport", .product(name: "JobCredsCore", package: "jobcreds")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "FuzzUpstream",
            dependencies: [
                "FuzzSupport", .product(name: "JobCredsCore", package: "jobcreds"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "FuzzRequestHead",
            dependencies: ["FuzzSupport", .product(name: "JobCredsCore", package: "jobcreds")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "FuzzArchive", dependencies: ["FuzzSupport", .product(name: "JobCredsCore", package: "jobcreds")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "FuzzGate", dependencies: ["FuzzSupport", .product(name: "JobCredsCore", package: "jobcreds")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
    ]
)

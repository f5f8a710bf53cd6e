// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "perfctl",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "perfctl", targets: ["perfctl"]),
        .executable(name: "perf-agent", targets: ["perf-agent"]),
        .executable(name: "perf-bench", targets: ["perf-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Pure model: configuration, plan, PerfLog, results, statistics. No processes, no sockets.
        .target(
            name: "PerfCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // libssh2 (Debian: libssh2-1-dev) with its function-like macros as inline functions.
        .systemLibrary(name: "CLibSSH2", pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),
        // SSH client on libssh2: session thread, host keys, login, exec channels, uploads.
        .target(
            name: "PerfSSH",
            dependencies: ["CLibSSH2", "PerfCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Agent protocol: messages, framing, versioning, byte-stream channels.
        .target(
            name: "PerfWire",
            dependencies: [
                "PerfCore",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // glibc calls declared only under _GNU_SOURCE (posix_spawn close-from and setsid, accept4).
        .target(name: "CAgentSystem"),
        // The node daemon's library: sessions, rank supervision, process runtime.
        .target(
            name: "PerfAgent",
            dependencies: [
                "PerfCore", "PerfWire", "CAgentSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Orchestration: transports, rounds, collection, results.
        .target(
            name: "PerfController",
            dependencies: [
                "PerfCore", "PerfWire", "PerfSSH",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "perfctl",
            dependencies: [
                "PerfCore", "PerfWire", "PerfController",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "perf-agent",
            dependencies: [
                "PerfAgent", "PerfWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // One file to copy to a node: the Swift runtime, Foundation and ICU linked in; glibc,
            // libstdc++ and libgcc_s stay shared (the toolchain's static-stdlib-args.lnk links them so).
            // Compiling with the flag too makes the module autolink Foundation's static dependencies.
            swiftSettings: [.unsafeFlags(["-static-stdlib"])],
            linkerSettings: [.unsafeFlags(["-static-stdlib"])]
        ),
        .executableTarget(
            name: "perf-bench",
            dependencies: [
                "PerfCore", "PerfController",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "PerfCoreTests", dependencies: ["PerfCore"]),
        .testTarget(name: "PerfWireTests", dependencies: ["PerfWire"]),
        .testTarget(name: "PerfSSHTests", dependencies: ["PerfSSH", "PerfCore"]),
        .testTarget(name: "PerfAgentTests", dependencies: ["PerfAgent", "PerfWire", "PerfCore"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["PerfController", "PerfCore"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

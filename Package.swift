// swift-tools-version: 6.2
import PackageDescription

/// Settings every Symphony target shares: Swift 6 language mode (strict concurrency) and warnings as errors.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .treatAllWarnings(as: .error),
]

// Linux only (tested on Debian 12): the code imports Glibc and uses /proc and
// PTHREAD_MUTEX_ADAPTIVE_NP, so no Apple platform is declared.
let package = Package(
    name: "Symphony",
    products: [
        .library(name: "SymphonyEvents", targets: ["SymphonyEvents"]),
        .library(name: "SymphonyCrypto", targets: ["SymphonyCrypto"]),
        .library(name: "SymphonyIntents", targets: ["SymphonyIntents"]),
        .library(name: "SymphonyPipeline", targets: ["SymphonyPipeline"]),
        .executable(name: "symphony", targets: ["symphony"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // `symphony serve`: the HTTP server (on SwiftNIO) and Prometheus metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    ],
    targets: [
        // System libraries: a module map and a tiny shim header each.
        .systemLibrary(
            name: "CPCRE2", pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]),
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        // libstemmer has no pkg-config file: its module map links it by name.
        .systemLibrary(
            name: "CStemmer",
            providers: [.apt(["libstemmer-dev"])]),
        // libpq, PostgreSQL's C client: the shared store of several nodes.
        .systemLibrary(
            name: "CPostgres", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),

        .target(
            name: "SymphonyConcurrency",
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyJSON",
            swiftSettings: strictSettings),
        // Byte-keyed dictionary keys with a fast seeded hash, for hot lookups of short strings.
        .target(
            name: "SymphonyHashing",
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyCrypto",
            dependencies: ["COpenSSL", "SymphonyConcurrency"],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyEvents",
            dependencies: ["SymphonyJSON", 
                "SymphonyCrypto",
                "SymphonyConcurrency",
                "SymphonyHashing",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyRecords",
            dependencies: ["SymphonyEvents", "SymphonyConcurrency"],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyRegex",
            dependencies: ["CPCRE2"],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        // Snowball stemmers (libstemmer), for intents' word forms.
        .target(
            name: "SymphonyStemming",
            dependencies: ["CStemmer", "SymphonyHashing"],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyDiagnostics",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyIntents",
            dependencies: ["SymphonyJSON", "SymphonyRegex", "SymphonyStemming", "SymphonyDiagnostics", "SymphonyHashing"],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyRules",
            dependencies: ["SymphonyJSON", "SymphonyEvents", "SymphonyRecords", "SymphonyIntents", "SymphonyDiagnostics", "SymphonyRegex", "SymphonyConcurrency", "SymphonyCrypto"],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyStore",
            dependencies: [
                "CSQLite", "SymphonyEvents", "SymphonyRecords", "SymphonyCrypto", "SymphonyConcurrency", "SymphonyHashing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        // The PostgreSQL store: shared queue and scheduled entries for several nodes (libpq).
        .target(
            name: "SymphonyPostgres",
            dependencies: ["CPostgres", "SymphonyEvents", "SymphonyJSON", "SymphonyRecords", "SymphonyCrypto", "SymphonyConcurrency"],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyAccess",
            dependencies: ["SymphonyEvents", "SymphonyDiagnostics"],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyEngine",
            dependencies: ["SymphonyJSON", 
                "SymphonyRules", "SymphonyEvents", "SymphonyRecords", "SymphonyAccess", "SymphonyConcurrency", "SymphonyHashing",
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyDelivery",
            dependencies: [
                "SymphonyActions", "SymphonyRecords", "SymphonyEvents", "SymphonyRules", "SymphonyConcurrency",
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyPipeline",
            dependencies: ["SymphonyJSON", "SymphonyDelivery",
                "SymphonyEngine", "SymphonyRules", "SymphonyEvents", "SymphonyRecords", "SymphonyAccess", "SymphonyConcurrency",
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        // A node of a cluster sharing its queue, delays and records in PostgreSQL.
        .target(
            name: "SymphonyCluster",
            dependencies: [
                "SymphonyPostgres", "SymphonyPipeline", "SymphonyDelivery", "SymphonyEngine", "SymphonyRules", "SymphonyEvents", "SymphonyRecords",
                "SymphonyAccess", "SymphonyCrypto", "SymphonyConcurrency",
            ],
            swiftSettings: strictSettings),
        // `symphony test`: rule tests — input on a virtual clock, expected and forbidden outcomes.
        .target(
            name: "SymphonyRuleTesting",
            dependencies: ["SymphonyJSON", "SymphonyEngine", "SymphonyRules", "SymphonyEvents", "SymphonyRecords", "SymphonyDiagnostics"],
            swiftSettings: strictSettings),
        // `symphony serve`: the HTTP API over a running pipeline, and its Prometheus metrics.
        .target(
            name: "SymphonyServer",
            dependencies: ["SymphonyJSON",
                "SymphonyPipeline", "SymphonyEngine", "SymphonyRules", "SymphonyEvents", "SymphonyRecords", "SymphonyAccess",
                "SymphonyIntents", "SymphonyCrypto", "SymphonyConcurrency", "SymphonyDiagnostics",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        // Side effects (child processes, HTTP requests, file appends) and a scripted HTTP server
        // that only test targets use.
        .target(
            name: "SymphonyActions",
            dependencies: ["CCurl", "SymphonyConcurrency"],
            swiftSettings: strictSettings),
        .target(
            name: "SymphonyTestHTTPServer",
            dependencies: ["SymphonyConcurrency"],
            swiftSettings: strictSettings),
        .executableTarget(
            name: "symphony",
            dependencies: ["SymphonyJSON", 
                "SymphonyPipeline",
                "SymphonyServer",
                "SymphonyRuleTesting",
                "SymphonyEvents",
                "SymphonyIntents",
                "SymphonyRules",
                "SymphonyEngine",
                "SymphonyRecords",
                "SymphonyAccess",
                "SymphonyStore",
                "SymphonyCrypto",
                "SymphonyDiagnostics",
                "SymphonyConcurrency",
                "SymphonyDelivery",
                "SymphonyCluster",
                "SymphonyPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings,
            // jemalloc replaces glibc's malloc in release builds: the event path allocates on some
            // threads and frees on others (the history writer frees the rows the workers built),
            // which glibc serialises on the allocating thread's arena lock. Debug builds (`make
            // test`, `make tsan`, `make fuzz`) keep the default allocator. Needs libjemalloc-dev.
            linkerSettings: [.linkedLibrary("jemalloc", .when(configuration: .release))]),
        .executableTarget(
            name: "symphony-bench",
            dependencies: [
                "SymphonyJSON", "CSQLite", "SymphonyEvents", "SymphonyRecords", "SymphonyCrypto", "SymphonyConcurrency", "SymphonyIntents", "SymphonyStore",
                "SymphonyPipeline", "SymphonyRules", "SymphonyAccess", "SymphonyPostgres",
            ],
            swiftSettings: strictSettings),

        // libFuzzer targets: `make fuzz` builds them with --sanitize=fuzzer (libFuzzer provides main).
        .executableTarget(
            name: "symphony-fuzz-rules",
            dependencies: ["SymphonyRules"],
            swiftSettings: strictSettings + [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(
            name: "symphony-fuzz-events",
            dependencies: ["SymphonyJSON", "SymphonyEvents"],
            swiftSettings: strictSettings + [.unsafeFlags(["-parse-as-library"])]),

        .testTarget(
            name: "SymphonyCryptoTests",
            dependencies: ["SymphonyCrypto", "SymphonyConcurrency"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SymphonyEventsTests",
            dependencies: ["SymphonyJSON", "SymphonyEvents", "SymphonyCrypto", "SymphonyConcurrency", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SymphonyRegexTests",
            dependencies: ["SymphonyRegex"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SymphonyIntentsTests",
            dependencies: ["SymphonyIntents", "SymphonyDiagnostics", "SymphonyRegex", "SymphonyStemming"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SymphonyHashingTests",
            dependencies: ["SymphonyHashing"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SymphonyRulesTests",
            dependencies: ["SymphonyJSON", "SymphonyRules", "SymphonyRecords", "SymphonyEngine", "SymphonyEvents", "SymphonyDiagnostics", "SymphonyConcurrency", "SymphonyAccess"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SymphonyStoreTests",
            dependencies: ["SymphonyStore", "SymphonyRecords", "SymphonyEvents", "SymphonyCrypto"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SymphonyPostgresTests",
            dependencies: ["SymphonyPostgres", "SymphonyEvents", "SymphonyRecords", "SymphonyCrypto", "SymphonyConcurrency"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SymphonyAccessTests",
            dependencies: ["SymphonyAccess", "SymphonyEvents", "SymphonyConcurrency"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SystemLibrariesTests",
            dependencies: ["CPCRE2", "COpenSSL", "CSQLite"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SymphonyPipelineTests",
            dependencies: ["SymphonyJSON", 
                "SymphonyPipeline", "SymphonyStore", "SymphonyRules", "SymphonyEngine", "SymphonyRecords", "SymphonyEvents", "SymphonyCrypto",
                "SymphonyAccess", "SymphonyDelivery", "SymphonyConcurrency", "SymphonyTestHTTPServer",
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SymphonyActionsTests",
            dependencies: ["SymphonyActions", "SymphonyTestHTTPServer", "SymphonyConcurrency"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SymphonyCLITests",
            dependencies: [
                "SymphonyJSON", "symphony", "SymphonyActions", "SymphonyConcurrency", "SymphonyTestHTTPServer", "SymphonyRecords", "SymphonyCrypto",
                "SymphonyEvents", "SymphonyStore", "SymphonyPostgres",
                // The OpenAPI contract test: the served routes, and docs/reference/openapi.yaml read with Yams.
                "SymphonyServer", .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings),
    ]
)

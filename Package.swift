// swift-tools-version:6.0
import PackageDescription

// finetok: no package dependencies — the toolchain only (stdlib, Foundation, Dispatch, XCTest).
let package = Package(
    name: "finetok",
    products: [
        .library(name: "Tokenizer", targets: ["Tokenizer"]),
        .library(name: "Builder", targets: ["Builder"]),
        .executable(name: "finetok", targets: ["finetok"]),
        // The C interface the Python wheel loads with ctypes (packaging/); nothing else uses it.
        .library(name: "FinetokC", type: .dynamic, targets: ["FinetokC"]),
    ],
    targets: [
        .target(name: "Tokenizer"),
        .target(name: "Builder", dependencies: ["Tokenizer"]),
        .executableTarget(name: "finetok", dependencies: ["Tokenizer", "Builder"]),
        .target(name: "FinetokC", dependencies: ["Tokenizer"]),
        .executableTarget(
            name: "finetok-bench",
            dependencies: ["Tokenizer", "Builder"],
            path: "benchmarks/Sources/finetok-bench"
        ),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer"], exclude: ["Fixtures"]),
        .testTarget(name: "BuilderTests", dependencies: ["Builder", "Tokenizer"], exclude: ["Fixtures"]),
        .testTarget(name: "FinetokCTests", dependencies: ["FinetokC", "Tokenizer"]),
        // Runs the built `finetok` binary end to end.
        .testTarget(name: "CLITests", dependencies: ["finetok"]),
    ]
)

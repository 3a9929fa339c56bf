// swift-tools-version:6.0
import PackageDescription

// finetok: no package dependencies — the toolchain only (stdlib, Foundation, Dispatch, XCTest,
// and the toolchain's clang for one C file: SHA-256 with the CPU's SHA instructions).
let package = Package(
    name: "finetok",
    products: [
        .library(name: "Tokenizer", targets: ["Tokenizer"]),
        .library(name: "Builder", targets: ["Builder"]),
        .library(name: "Jinja", targets: ["Jinja"]),
        .executable(name: "finetok", targets: ["finetok"]),
        // The C interface the Python wheel loads with ctypes (packaging/); nothing else uses it.
        .library(name: "FinetokC", type: .dynamic, targets: ["FinetokC"]),
    ],
    targets: [
        .target(name: "Tokenizer"),
        // The chat-template engine (Jinja as transformers runs it); Tokenizer only for its JSON reader.
        .target(name: "Jinja", dependencies: ["Tokenizer"]),
        // SHA-256 block compression with x86-64 SHA-NI, checked for at run time (Builder's
        // SHA256.swift is the portable reference and fallback).
        .target(name: "SHA256Hardware"),
        .target(name: "Builder", dependencies: ["Tokenizer", "Jinja", "SHA256Hardware"]),
        .executableTarget(name: "finetok", dependencies: ["Tokenizer", "Builder", "Jinja"]),
        .target(name: "FinetokC", dependencies: ["Tokenizer"]),
        .executableTarget(
            name: "finetok-bench",
            dependencies: ["Tokenizer", "Builder", "Jinja"],
            path: "benchmarks/Sources/finetok-bench"
        ),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer"], exclude: ["Fixtures"]),
        .testTarget(name: "BuilderTests", dependencies: ["Builder", "Tokenizer", "Jinja"], exclude: ["Fixtures"]),
        // Builder only for its SHA-256 (the golden corpus is committed as digests).
        .testTarget(name: "JinjaTests", dependencies: ["Jinja", "Tokenizer", "Builder"], exclude: ["Fixtures"]),
        .testTarget(name: "FinetokCTests", dependencies: ["FinetokC", "Tokenizer"]),
        // Runs the built `finetok` binary end to end.
        .testTarget(name: "CLITests", dependencies: ["finetok"]),
    ]
)

// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "ggep",
  platforms: [.macOS(.v13)],
  products: [
    // MARK: - Public API
    .library(name: "GGEP", targets: ["GGEP"]),
    .executable(name: "ggep", targets: ["ggep"]),
  ],
  dependencies: [
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // MARK: - Public API
    .target(
      name: "GGEP",
      dependencies: [
        "_CBLAS", "_LAPACKE", "_HDF5", "_ZLib", "_VectorMath",
        .product(name: "Yams", package: "Yams"),
      ]
    ),
    .executableTarget(
      name: "ggep",
      dependencies: [
        "GGEP",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // MARK: - Implementation details (system C libraries and their shims)
    .systemLibrary(
      name: "_CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "_LAPACKE", pkgConfig: "lapacke", providers: [.apt(["liblapacke-dev"])]),
    .systemLibrary(
      name: "_HDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
    .systemLibrary(
      name: "_ZLib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    // Vectorised softplus/sigmoid/Bernoulli/Adam kernels on glibc's libmvec (AVX2). Every
    // element takes the same 8-lane path (tails are padded), so results do not depend on an
    // element's position or the batch size. No -ffast-math: the formulas are kept as written.
    .target(
      name: "_VectorMath",
      path: "Sources/_VectorMath",
      cSettings: [.unsafeFlags(["-O3", "-mavx2", "-mfma"])],
      linkerSettings: [.linkedLibrary("mvec"), .linkedLibrary("m")]
    ),

    // MARK: - Unit test bundles
    .testTarget(name: "GGEPTests", dependencies: ["GGEP"]),
  ]
)

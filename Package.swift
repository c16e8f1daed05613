// swift-tools-version:6.0
import PackageDescription

// Layers, lowest first; a target imports only those below it (the compiler enforces it):
//   GGEPCore         linear algebra (BLAS, LAPACK, LP), RandomStream, SHA-256, HDF5, vector kernels, MNIST files
//   GGEPModels       network layers, generators, model files, training
//   GGEPNumerics     problems, projection, algorithms: typed parameters, never config types
//   GGEPExperiments  config schema, sweep, plan, runner, journal, results files, reports, audit, cluster
//   ggep             the command line
let package = Package(
  name: "ggep",
  platforms: [.macOS(.v13)],
  products: [
    // MARK: - Public API
    .library(name: "GGEP", targets: ["GGEPCore", "GGEPModels", "GGEPNumerics", "GGEPExperiments"]),
    .executable(name: "ggep", targets: ["ggep"]),
  ],
  dependencies: [
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // MARK: - Public API
    .target(
      name: "GGEPCore",
      dependencies: ["_CBLAS", "_LAPACKE", "_HDF5", "_ZLib", "_CLP", "_VectorMath"]
    ),
    .target(
      name: "GGEPModels",
      dependencies: ["GGEPCore", "_CBLAS"]
    ),
    .target(
      name: "GGEPNumerics",
      dependencies: ["GGEPCore", "GGEPModels"]
    ),
    .target(
      name: "GGEPExperiments",
      dependencies: [
        "GGEPCore", "GGEPModels", "GGEPNumerics", "_ZLib",
        .product(name: "Yams", package: "Yams"),
      ]
    ),
    .executableTarget(
      name: "ggep",
      dependencies: [
        "GGEPCore", "GGEPModels", "GGEPNumerics", "GGEPExperiments",
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
    // COIN-OR CLP, the LP solver of the layer-wise inversion (LP inversion, SPEC 10). Its
    // pkg-config adds -llapack -lblas; on Debian those are OpenBLAS's own wrappers over
    // libopenblas.so.0, so BLAS stays one library and one thread setting.
    .systemLibrary(
      name: "_CLP", pkgConfig: "clp", providers: [.apt(["coinor-libclp-dev"])]),
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
    .testTarget(
      name: "GGEPTests", dependencies: ["GGEPCore", "GGEPModels", "GGEPNumerics", "GGEPExperiments"],
      exclude: ["Fixtures"]),
  ]
)

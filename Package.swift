// swift-tools-version:6.0
import PackageDescription

// Layers, lowest first; a target imports only targets above it in this list (the compiler
// enforces it), and the folders under Sources/ are numbered in the same order:
//   GGEPCore            linear algebra (BLAS, LAPACK, LP), RandomStream, SHA-256, HDF5, zlib, kernels, MNIST files
//   GGEPPrior           the prior's interface: Generator, LayeredGenerator, DenseLayer, Activation, Adam
//   GGEPNumerics        problems, projection, algorithms, inversion: typed parameters, never config types
//   GGEPModels          network layers, generators, model files, PyTorch import, training
//   GGEPConfig          YAML configs as trees of nodes with paths and marks; typed readers
//   GGEPPipeline        kinds' protocol, sweep, plan, runner, journal, results files, audit, generic reports (names no kind)
//   GGEPPlot            figures
//   GGEPCluster         Slurm submission and status
//   GGEPComponents      generators, signals, problems, algorithms and projectors as config declarations
//   GGEPKindGEP         the `gep` experiment kind
//   GGEPKindInversion   the `inversion` experiment kind
//   GGEPPriors          prior training runs and model reports
//   GGEPBench           `ggep bench`
//   GGEPBuiltIns        the kinds ggep ships with, registered at start-up
//   ggep                the command line
let layers: [(name: String, path: String, dependencies: [Target.Dependency])] = [
  ("GGEPCore", "Sources/01-Core", ["_CBLAS", "_LAPACKE", "_HDF5", "_ZLib", "_CLP", "_VectorMath"]),
  ("GGEPPrior", "Sources/02-Prior", ["GGEPCore"]),
  ("GGEPNumerics", "Sources/03-Numerics", ["GGEPCore", "GGEPPrior"]),
  ("GGEPModels", "Sources/04-Models", ["GGEPCore", "GGEPPrior"]),
  ("GGEPConfig", "Sources/05-Config", ["GGEPCore", .product(name: "Yams", package: "Yams")]),
  ("GGEPPipeline", "Sources/06-Pipeline", ["GGEPCore", "GGEPConfig"]),
  ("GGEPPlot", "Sources/07-Plot", ["GGEPCore", "_ZLib"]),
  ("GGEPCluster", "Sources/08-Cluster", ["GGEPCore", "GGEPConfig", "GGEPPipeline"]),
  ("GGEPComponents", "Sources/09-Components",
   ["GGEPCore", "GGEPPrior", "GGEPNumerics", "GGEPModels", "GGEPConfig", "GGEPPipeline"]),
  ("GGEPKindGEP", "Sources/10-Kinds/GEP",
   ["GGEPCore", "GGEPPrior", "GGEPNumerics", "GGEPModels", "GGEPConfig", "GGEPPipeline", "GGEPPlot", "GGEPComponents"]),
  ("GGEPKindInversion", "Sources/10-Kinds/Inversion",
   ["GGEPCore", "GGEPPrior", "GGEPNumerics", "GGEPModels", "GGEPConfig", "GGEPPipeline", "GGEPPlot", "GGEPComponents"]),
  ("GGEPPriors", "Sources/11-Priors", ["GGEPCore", "GGEPPrior", "GGEPNumerics", "GGEPModels", "GGEPConfig", "GGEPPipeline", "GGEPPlot"]),
  ("GGEPBench", "Sources/12-Bench", ["GGEPCore", "GGEPPrior", "GGEPNumerics", "GGEPModels", "GGEPComponents"]),
  ("GGEPBuiltIns", "Sources/13-BuiltIns", ["GGEPPipeline", "GGEPKindGEP", "GGEPKindInversion"]),
]
let libraries = layers.map { Target.Dependency(stringLiteral: $0.name) }

let package = Package(
  name: "ggep",
  platforms: [.macOS(.v13)],
  products: [
    // MARK: - Public API
    .library(name: "GGEP", targets: layers.map(\.name)),
    .executable(name: "ggep", targets: ["ggep"]),
  ],
  dependencies: [
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: layers.map { .target(name: $0.name, dependencies: $0.dependencies, path: $0.path) } + [
    .executableTarget(
      name: "ggep",
      dependencies: libraries + [.product(name: "ArgumentParser", package: "swift-argument-parser")],
      path: "Sources/14-CLI"
    ),

    // MARK: - Implementation details (system C libraries and their shims)
    .systemLibrary(
      name: "_CBLAS", path: "Sources/00-System/_CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "_LAPACKE", path: "Sources/00-System/_LAPACKE", pkgConfig: "lapacke", providers: [.apt(["liblapacke-dev"])]),
    .systemLibrary(
      name: "_HDF5", path: "Sources/00-System/_HDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
    .systemLibrary(
      name: "_ZLib", path: "Sources/00-System/_ZLib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    // COIN-OR CLP, the LP solver of the layer-wise inversion (LP inversion, SPEC 10). Its
    // pkg-config adds -llapack -lblas; on Debian those are OpenBLAS's own wrappers over
    // libopenblas.so.0, so BLAS stays one library and one thread setting.
    .systemLibrary(
      name: "_CLP", path: "Sources/00-System/_CLP", pkgConfig: "clp", providers: [.apt(["coinor-libclp-dev"])]),
    // Vectorised softplus/sigmoid/Bernoulli/Adam kernels on glibc's libmvec (AVX2). Every
    // element takes the same 8-lane path (tails are padded), so results do not depend on an
    // element's position or the batch size. No -ffast-math: the formulas are kept as written.
    .target(
      name: "_VectorMath",
      path: "Sources/00-System/_VectorMath",
      cSettings: [.unsafeFlags(["-O3", "-mavx2", "-mfma"])],
      linkerSettings: [.linkedLibrary("mvec"), .linkedLibrary("m")]
    ),

    // MARK: - Unit test bundles
    .testTarget(
      name: "GGEPTests", dependencies: libraries,
      exclude: ["Fixtures"]),
  ]
)

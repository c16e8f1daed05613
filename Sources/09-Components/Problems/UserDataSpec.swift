import Foundation
import GGEPCore
import GGEPPrior
import GGEPNumerics
import GGEPModels
import GGEPConfig
import GGEPPipeline

/// `problem: {kind: samples, file: …}` (docs/mathematics.md §9, "User data"): Â and B̂ from a researcher's
/// HDF5 file. Dataset paths are config values; the file's SHA-256 is part of the spec (and so
/// of every job key), so changed data never resumes results of the old data.
///
/// Everything is checked when the plan is made (`UserData.load`): the file, each dataset's
/// presence, rank and shape, finiteness (with the offending row and column), symmetry of dense
/// matrices and positive definiteness of a dense B.
public struct UserDataSpec: Codable, Hashable, Sendable {
  /// How one side of the pair is given in the file.
  public enum Side: Codable, Hashable, Sendable {
    /// (1/m) Xᵀ diag(w) X from an m × n sample matrix X (rows are samples) and optional weights.
    case samples(dataset: String, weights: String?)
    /// A dense symmetric n × n matrix.
    case matrix(dataset: String)
    /// Iₙ (only for B).
    case identity

    var label: String {
      switch self {
      case .samples(_, let weights): return weights == nil ? "samples" : "weighted-samples"
      case .matrix: return "matrix"
      case .identity: return "identity"
      }
    }
  }

  /// The file's path as written in the config (relative to the working directory).
  public var file: String
  /// SHA-256 of the file's bytes when the plan was made.
  public var checksum: String
  public var a: Side
  public var b: Side
  /// Dataset of the optional truth vector (n entries); without it there are no cosine metrics.
  public var truth: String?
  /// Rows of A's sample matrix (else of B's, else 0 when both sides are dense or B = I).
  public var sampleCount: Int
  public var n: Int

  /// `samples(own-data.h5)`: the problem label in results.
  public var label: String {
    "samples(\((file as NSString).lastPathComponent))"
  }

  package init(_ table: ConfigTable, n: Int) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["kind", "file", "a", "b", "truth"], context: "for kind samples")
    let file = try table.string("file")
    self.file = file
    self.n = n
    a = try Self.side(table, "a", allowIdentity: false)
    b = try Self.side(table, "b", allowIdentity: true)
    truth = try table.optionalString("truth")
    checksum = ""
    sampleCount = 0
    let loaded = try UserData.load(self, from: table)
    checksum = loaded.checksum
    sampleCount = loaded.sampleCount
  }

  /// `a: {samples: /X, weights: /w}` or `a: {matrix: /A}`; for B also `b: identity`.
  private static func side(_ table: ConfigTable, _ key: String, allowIdentity: Bool) throws(ConfigError) -> Side {
    let shapes = allowIdentity ? "{samples: /Y}, {matrix: /B} or identity" : "{samples: /X, weights: /w} or {matrix: /A}"
    guard let value = table[key] else { throw table.error(key, "missing required key (\(shapes))") }
    if allowIdentity, case .scalar = value.node.content {
      guard try value.string() == "identity" else { throw value.error("expected \(shapes), got \(value.shownValue)") }
      return .identity
    }
    guard case .mapping = value.node.content else { throw value.error("expected \(shapes), got \(value.shownValue)") }
    let side = try value.table()
    if side["matrix"] != nil {
      try side.checkKnownKeys(allowed: ["matrix"], context: "with matrix (a dense matrix has no samples or weights)")
      return .matrix(dataset: try side.string("matrix"))
    }
    try side.checkKnownKeys(allowed: allowIdentity ? ["samples", "matrix"] : ["samples", "weights", "matrix"])
    guard side["samples"] != nil else { throw table.error(key, "expected \(shapes): give samples or matrix") }
    return .samples(dataset: try side.string("samples"), weights: try side.optionalString("weights"))
  }
}

/// The arrays of a user-data file, checked. Cached by content checksum and dataset paths, so a
/// sweep's points (and the jobs that follow) parse and check a file once.
public struct UserData: Sendable {
  public let checksum: String
  public let sampleCount: Int
  public let a: any SymmetricOperator
  public let b: any SymmetricOperator
  /// The truth as stored (not normalised), if the config names one.
  public let truth: [Double]?

  /// A failure, with the config key it belongs to.
  package struct Failure: Error {
    var key: String
    var message: String
  }

  private static let cache = LockedCache<UserData>()

  /// Loads and checks the file for `spec` (its checksum field is ignored), turning every
  /// failure into a ConfigError at the key it concerns.
  package static func load(_ spec: UserDataSpec, from table: ConfigTable) throws(ConfigError) -> UserData {
    do {
      return try cached(spec)
    } catch let failure as Failure {
      // An error about a dataset is put at the key naming it (`problem.a.samples`).
      let parts = failure.key.split(separator: ".").map(String.init)
      var current = table
      for part in parts.dropLast() {
        guard let next = try? current.table(part) else { break }
        current = next
      }
      throw current.error(parts.last ?? "file", failure.message)
    } catch {
      throw table.error("file", "\(spec.file): \(error)")
    }
  }

  /// For a job: the data the plan checked, or a fresh load whose checksum must be the plan's.
  public static func forRun(_ spec: UserDataSpec) throws -> UserData {
    let data: UserData
    do {
      data = try cached(spec)
    } catch let failure as Failure {
      throw HDF5Error(path: spec.file, object: "", message: failure.message)
    }
    guard data.checksum == spec.checksum else {
      throw HDF5Error(
        path: spec.file, object: "",
        message: "the file changed since the plan was made (SHA-256 \(data.checksum), the plan has \(spec.checksum)); plan again")
    }
    return data
  }

  private static func cached(_ spec: UserDataSpec) throws -> UserData {
    let path = spec.file
    guard FileManager.default.fileExists(atPath: path) else { throw Failure(key: "file", message: "\(path): file not found") }
    // Keyed by content, not by modification time, so a rewritten file is always read again.
    let checksum = try memoizedChecksum(path)
    var identity = spec
    identity.checksum = checksum
    identity.sampleCount = 0
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let key = (try? encoder.encode(identity)).map { String(decoding: $0, as: UTF8.self) } ?? "\(path)|\(checksum)"
    if let hit = cache.get(key) { return hit }
    let data = try read(spec, checksum: checksum)
    cache.set(key, data)
    return data
  }

  private static func read(_ spec: UserDataSpec, checksum: String) throws -> UserData {
    let path = spec.file
    let n = spec.n
    func fail(_ key: String, _ message: String) -> Failure { Failure(key: key, message: message) }
    let file: HDF5File
    do {
      file = try HDF5File.open(path)
    } catch {
      throw fail("file", "\(path): not a readable HDF5 file (\(error))")
    }
    defer { try? file.close() }
    let root = file.root

    /// Reads `dataset` (config key `key`), checking presence, shape and finiteness.
    func array(_ dataset: String, key: String, expected: String, check: ([Int]) -> Bool) throws -> (values: [Double], shape: [Int]) {
      let name = "\(path): dataset \(dataset)"
      guard root.exists(dataset) else { throw fail(key, "\(name): not found in the file") }
      let values: [Double], shape: [Int]
      do {
        (values, shape) = try root.readDoubles(dataset)
      } catch {
        throw fail(key, "\(name): cannot be read as numbers (\(error))")
      }
      guard check(shape) else {
        let shown = shape.isEmpty ? "a scalar" : "shape " + shape.map(String.init).joined(separator: "×")
        throw fail(key, "\(name): has \(shown), expected \(expected)")
      }
      if let bad = values.firstIndex(where: { !$0.isFinite }) {
        let place: String
        if shape.count == 2 {
          place = "row \(bad / shape[1]), column \(bad % shape[1])"
        } else {
          place = "entry \(bad)"
        }
        throw fail(key, "\(name): non-finite value \(values[bad]) at \(place) (0-based)")
      }
      return (values, shape)
    }

    func side(_ side: UserDataSpec.Side, key: String, letter: String) throws -> (any SymmetricOperator, Int?) {
      switch side {
      case .identity:
        return (IdentityOperator(dimension: n), nil)
      case .samples(let dataset, let weights):
        let x = try array(dataset, key: "\(key).samples", expected: "m×\(n) (samples × generator.n = \(n))") {
          $0.count == 2 && $0[1] == n && $0[0] >= 1
        }
        let m = x.shape[0]
        var w: [Double]?
        if let weights {
          w = try array(weights, key: "\(key).weights", expected: "\(m) entries (one per row of \(dataset))") {
            $0.reduce(1, *) == m && $0.filter { $0 != 1 }.count <= 1 && !$0.isEmpty
          }.values
        }
        return (GramOperator(samples: Matrix(rows: m, cols: n, storage: x.values), weights: w), m)
      case .matrix(let dataset):
        let a = try array(dataset, key: "\(key).matrix", expected: "\(n)×\(n) (generator.n = \(n))") { $0 == [n, n] }
        let matrix = Matrix(rows: n, cols: n, storage: a.values)
        let scale = a.values.reduce(0) { max($0, Swift.abs($1)) }
        for i in 0..<n {
          for j in (i + 1)..<n {
            let (upper, lower) = (a.values[i * n + j], a.values[j * n + i])
            if Swift.abs(upper - lower) > 1e-10 * scale {
              throw fail(
                "\(key).matrix",
                "\(path): dataset \(dataset): not symmetric: entry (\(i), \(j)) is \(upper) but (\(j), \(i)) is \(lower) (relative tolerance 1e-10)")
            }
          }
        }
        if letter == "B" {
          do {
            _ = try LAPACK.cholesky(matrix)
          } catch {
            throw fail("\(key).matrix", "\(path): dataset \(dataset): B is not positive definite (Cholesky failed: \(error))")
          }
        }
        return (DenseSymmetricOperator(matrix), nil)
      }
    }

    let (a, mA) = try side(spec.a, key: "a", letter: "A")
    let (b, mB) = try side(spec.b, key: "b", letter: "B")
    var truth: [Double]?
    if let dataset = spec.truth {
      let values = try array(dataset, key: "truth", expected: "\(n) entries (generator.n = \(n))") {
        $0.reduce(1, *) == n && $0.filter { $0 != 1 }.count <= 1 && !$0.isEmpty
      }.values
      guard values.contains(where: { $0 != 0 }) else { throw fail("truth", "\(path): dataset \(dataset): is all zeros") }
      truth = values
    }
    return UserData(checksum: checksum, sampleCount: mA ?? mB ?? 0, a: a, b: b, truth: truth)
  }

  /// The checksum, remembered by the file's stamp (`FileSystem.stamp`: path, inode, size,
  /// modification time) : a sweep decodes every point, and hashing a large file each time is
  /// slow.
  package static func memoizedChecksum(_ path: String) throws -> String {
    guard let stamp = FileSystem.stamp(path) else { return try fileChecksum(path) }
    let key = "checksum|\(stamp)"
    if let hit = checksums.get(key) { return hit }
    let checksum = try fileChecksum(path)
    checksums.set(key, checksum)
    return checksum
  }

  private static let checksums = LockedCache<String>()

  /// SHA-256 of the file's bytes, read in 1 MiB blocks.
  package static func fileChecksum(_ path: String) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw Failure(key: "file", message: "\(path): cannot open the file")
    }
    defer { try? handle.close() }
    var hasher = SHA256.Hasher()
    while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
      hasher.update(block)
    }
    return SHA256.hex(hasher.finalize())
  }
}


extension UserDataSpec {
  /// The experiment's `signal` for kind samples: there is one problem instance, from the file,
  /// so `signal` is not allowed in the config and this fixed value stands in (one signal, index 0).
  package static let placeholderSignal = SignalSpec(source: .generator, count: 1, seed: 0)

  /// The root-level rules of kind samples: no `signal` (the truth takes v*'s place), one
  /// trial (there are no random draws), and `m` is the file's sample count: optional, and when
  /// given it must equal the file's. Returns the m to record.
  package func checkRoot(m given: Int?, trials: Int, in root: ConfigTable) throws(ConfigError) -> Int {
    if root["signal"] != nil {
      throw root.error(
        "signal",
        "not allowed with problem kind samples: the file is the one problem instance (problem.truth, if given, takes v*'s place)")
    }
    if trials != 1 {
      throw root.error("trials", "must be 1 with problem kind samples (the data come from \(file); nothing is drawn), got \(trials)")
    }
    if let given, given != sampleCount {
      let source: String
      switch (a, b) {
      case (.samples(let x, _), _): source = "\(file) has \(sampleCount) samples (rows of \(x))"
      case (_, .samples(let y, _)): source = "\(file) has \(sampleCount) samples (rows of \(y))"
      default: source = "\(file) gives dense matrices (no samples: omit m, recorded as 0)"
      }
      throw root.error("m", "is \(given) but \(source); omit m for problem kind samples, or make them agree")
    }
    return sampleCount
  }

  /// Rules that involve the algorithm and projection: Rifle's default η' = η·λ1 needs the
  /// population λ1, unknown for user data; oracle-norm projection needs ‖truth‖.
  package func checkMethods(algorithm: AlgorithmSpec, projection: ProjectionSpec, in root: ConfigTable) throws(ConfigError) {
    if let (key, message) = algorithm.method.component.refusalWithoutLambda1() {
      let table = (try? root.table("algorithm")) ?? root
      throw table.error(key, message)
    }
    if truth == nil, projection.mode == .oracleNorm, projection.method != ExactProjectorSpec.method {
      let table = (try? root.table("projection")) ?? root
      throw table.error("mode", "oracle-norm scales by ‖image‖, which needs problem.truth with problem kind samples")
    }
  }
}

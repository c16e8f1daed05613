import Foundation
import GGEPCore
import GGEPPrior
import GGEPNumerics
import GGEPConfig
import GGEPPipeline
import GGEPComponents

/// One fully expanded experiment point: the typed form of a config after includes, overrides
/// and sweep expansion, with every default filled in.
///
/// Defaults are resolved here, once, so that an omitted key and an explicitly written default
/// produce equal values, equal canonical JSON and therefore equal job keys. Everything that can
/// be wrong with a config is checked while building this value, before any job runs.
public struct ExperimentSpec: Codable, Hashable, Sendable {
  /// Results go to `results/<name>/`; defaults to the config file's stem.
  public var name: String
  public var description: String?
  /// The sweep seed, from which each job's random streams are derived with its job key.
  public var seed: Int
  /// Independent data draws per (signal, sweep point).
  public var trials: Int
  /// Number of samples (measurements).
  public var m: Int
  public var signal: SignalSpec
  public var generator: GeneratorSpec
  public var problem: ProblemSpec
  public var algorithm: AlgorithmSpec
  public var projection: ProjectionSpec

  public init(
    name: String, description: String? = nil, seed: Int = 0, trials: Int = 1, m: Int, signal: SignalSpec,
    generator: GeneratorSpec, problem: ProblemSpec, algorithm: AlgorithmSpec, projection: ProjectionSpec
  ) {
    self.name = name
    self.description = description
    self.seed = seed
    self.trials = trials
    self.m = m
    self.signal = signal
    self.generator = generator
    self.problem = problem
    self.algorithm = algorithm
    self.projection = projection
  }

  /// The root keys of an expanded point (`include` and `sweep` are consumed before decoding).
  public static let rootKeys = [
    "name", "description", "seed", "trials", "m", "signal", "generator", "problem", "algorithm", "projection", "experiment",
  ]

  /// Decodes and validates one expanded point. `defaultName` is used when `name` is absent
  /// (the loader passes the config file's stem).
  public init(config root: ConfigNode, defaultName: String) throws(ConfigError) {
    let table = try ConfigValue(root, path: .root).table()
    try table.checkKnownKeys(allowed: Self.rootKeys)

    let name = try table.string("name", default: defaultName)
    try Self.validateName(name, in: table)
    self.name = name
    description = try table.optionalString("description")
    seed = try table.int("seed", default: 0, .atLeast(0))
    trials = try table.int("trials", default: 1, .atLeast(1))
    let givenM = try table.optionalInt("m", .atLeast(1))
    // The generator comes first: its n bounds k, the signal's support and Rifle's s.
    generator = try GeneratorSpec(try table.table("generator"))
    problem = try ProblemSpec(try table.table("problem"), n: generator.n)
    try Self.checkProduct(problem: problem, generator: generator, in: table)
    if let data = problem.userData {
      // User data (docs/mathematics.md §9): m from the file, no signal, one trial.
      m = try data.checkRoot(m: givenM, trials: trials, in: table)
      signal = UserDataSpec.placeholderSignal
    } else {
      guard let givenM else { throw table.error("m", "missing required key (an integer)") }
      m = givenM
      // GCCA's view signals come from (and are sized by) the product's first factor.
      signal = try SignalSpec(try table.table("signal"), generator: generator.signalGenerator, defaultSeed: seed)
    }
    try problem.validate(m: m, in: table)
    algorithm = try AlgorithmSpec(try table.table("algorithm"), generator: generator)
    // GCCA's default η (docs/mathematics.md §9; chosen by the sweep documented at GCCADefaults) replaces
    // section 5's when `eta` is not given.
    let algorithmTable = try table.table("algorithm")
    if problem.gcca != nil, algorithmTable["eta"] == nil, algorithmTable["eta_lambda1"] == nil {
      algorithm.method = AlgorithmSpec.Method(algorithm.method.component.with(step: .absolute(GCCADefaults.eta)))
    }
    projection = try ProjectionSpec(try table.table("projection"), generator: generator.projectionSurrogate)
    try Self.checkGCCAMethods(problem: problem, generator: generator, algorithm: algorithm, projection: projection, in: table)
    try problem.userData?.checkMethods(algorithm: algorithm, projection: projection, in: table)
  }

  /// `kind: gcca` needs a product generator of two equal-n factors, and only gcca takes one.
  private static func checkProduct(problem: ProblemSpec, generator: GeneratorSpec, in table: ConfigTable) throws(ConfigError) {
    let isGCCA = problem.gcca != nil
    let isProduct = generator.isProduct
    if isGCCA && !isProduct {
      throw table.error(
        "generator", "problem kind gcca needs a product generator, generator: {product: [<generator>, <generator>]} (one per view)")
    }
    if !isGCCA && isProduct {
      throw table.error("generator", "a product generator is only for problem kind gcca, got kind \(problem.kind)")
    }
    if isGCCA {
      let factors = generator.factors
      guard factors[0].n == factors[1].n else {
        throw try table.table("generator").error(
          "product", "problem kind gcca needs two views of equal dimension, but the factors have n = \(factors[0].n) and \(factors[1].n)")
      }
    }
  }

  /// Rifle truncates s entries per view under gcca (s ≤ n_view); the oracle-norm scale has no
  /// meaning for a two-view product (one ‖image‖ for two halves).
  private static func checkGCCAMethods(
    problem: ProblemSpec, generator: GeneratorSpec, algorithm: AlgorithmSpec, projection: ProjectionSpec, in table: ConfigTable
  ) throws(ConfigError) {
    guard generator.isProduct else { return }
    if let (key, message) = algorithm.method.component.refusal(viewN: generator.signalGenerator.n) {
      throw try table.table("algorithm").error(key, message)
    }
    if projection.mode == .oracleNorm {
      throw try table.table("projection").error("mode", "oracle-norm is not available with a product generator; use cosine")
    }
  }

  /// Names become directory names under `results/`, so they are restricted to characters
  /// that are safe in paths and shells.
  private static func validateName(_ name: String, in table: ConfigTable) throws(ConfigError) {
    let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.+".contains($0)) }
    guard !name.isEmpty, allowed, name.first != "." else {
      let origin = table["name"] == nil ? " (the default, taken from the file name; set name: explicitly)" : ""
      throw table.error(
        "name",
        "must be non-empty, use only letters, digits and - _ . +, and not start with '.'; got \"\(name)\"\(origin)")
    }
  }

  // The encoding is written out, not synthesized, so that a new field cannot slip into every
  // job key: fields that existed when the keys were pinned always encode; a field added since
  // encodes with `encode(_:forKey:unlessEqualTo:)` (Sweep/KeyEncoding.swift).
  private enum CodingKeys: String, CodingKey {
    case name, description, seed, trials, m, signal, generator, problem, algorithm, projection
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(name, forKey: .name)
    try container.encodeIfPresent(description, forKey: .description)
    try container.encode(seed, forKey: .seed)
    try container.encode(trials, forKey: .trials)
    try container.encode(m, forKey: .m)
    try container.encode(signal, forKey: .signal)
    try container.encode(generator, forKey: .generator)
    try container.encode(problem, forKey: .problem)
    try container.encode(algorithm, forKey: .algorithm)
    try container.encode(projection, forKey: .projection)
  }

  /// Sorted-key JSON of the whole spec: stable text for recording and comparing specs.
  public var canonicalJSON: String { Self.canonicalJSON(of: self) }

  /// The spec reduced to what determines a job's computation, as canonical JSON: `name`,
  /// `description` and `trials` are blanked, so renaming an experiment, editing its
  /// description or adding trials does not change the keys (and hence the random streams and
  /// cached results) of the jobs that already existed.
  public var identityJSON: String {
    var identity = self
    identity.name = ""
    identity.description = nil
    identity.trials = 1
    return Self.canonicalJSON(of: identity)
  }

  static func canonicalJSON(of spec: ExperimentSpec) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding plain value types into JSON cannot fail (all doubles are finite by validation).
    guard let data = try? encoder.encode(spec), let text = String(data: data, encoding: .utf8) else {
      preconditionFailure("ExperimentSpec must always encode to JSON")
    }
    return text
  }
}

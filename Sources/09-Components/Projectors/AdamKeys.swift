import GGEPConfig
import GGEPNumerics

/// Adam on the latent's keys (docs/mathematics.md §4), read one way wherever Adam runs: a GEP
/// projection (`projection: {method: adam}`), a hybrid's refinement, and an inversion job's
/// `method: {kind: adam}` or `{kind: hybrid}`. Only the defaults differ by place, and each place
/// states its own.
public enum AdamKeys {
  /// The keys, with `defaults` shown; `warm_start` only where iterates follow one another (PRFM).
  public static func declared(_ defaults: AdamProjector.Settings, warmStart: Bool, restarts: String = "random starts; the lowest final loss wins")
    -> [DeclaredKey]
  {
    var keys = [
      DeclaredKey("steps", "integer ≥ 1", default: "\(defaults.steps)", "Adam steps per restart"),
      DeclaredKey("learning_rate", "number > 0", default: configNumber(defaults.learningRate), "Adam's step size"),
      DeclaredKey("restarts", "integer ≥ 1", default: "\(defaults.restarts)", restarts),
      DeclaredKey("lambda_z", "number ≥ 0", default: configNumber(defaults.lambdaZ), "weight of ‖z‖² in the loss"),
    ]
    if warmStart {
      keys.append(DeclaredKey("warm_start", "boolean", default: "\(defaults.warmStart)", "start the first restart from the previous iteration's ẑ"))
    }
    return keys
  }

  /// The settings `table` gives, each absent key at its value in `defaults` (`warm_start` is
  /// read only when `warmStart`; the caller has checked the table's keys).
  public static func read(_ table: ConfigTable, defaults: AdamProjector.Settings, warmStart: Bool) throws(ConfigError) -> AdamProjector.Settings {
    AdamProjector.Settings(
      steps: try table.int("steps", default: defaults.steps, .atLeast(1)),
      learningRate: try table.double("learning_rate", default: defaults.learningRate, .greaterThan(0)),
      restarts: try table.int("restarts", default: defaults.restarts, .atLeast(1)),
      lambdaZ: try table.double("lambda_z", default: defaults.lambdaZ, .atLeast(0)),
      warmStart: warmStart ? try table.bool("warm_start", default: defaults.warmStart) : defaults.warmStart)
  }

  private static func configNumber(_ x: Double) -> String { x == 0 ? "0" : "\(x)" }
}

import GGEPKindGEP
import GGEPKindInversion
import GGEPPipeline

/// What ggep ships with, registered once at start-up by the command line (and by the tests):
/// each experiment kind is one line here.
public enum BuiltIns {
  private static let registered: Void = {
    // The first kind is the default of `experiment:`.
    ExperimentKinds.register(GEPKind(), builtIn: true)
    ExperimentKinds.register(InversionKind(), builtIn: true)
  }()

  /// Registers the built-in kinds (once; later calls do nothing).
  public static func register() {
    registered
  }
}

/// A sweep point whose jobs run generators: `ggep check-generator` holds each against PyTorch.
/// A kind's `KindSpec` conforms when its jobs use generators.
public protocol UsesGenerators {
  /// The generators the point's jobs use.
  var generators: [GeneratorSpec] { get }
}

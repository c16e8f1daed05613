import GGEPConfig
import GGEPModels

/// `generator: {product: [g₁, g₂]}`: GCCA's product prior (docs/mathematics.md §9),
/// Ĝ(z₁, z₂, θ) = (cos θ·Ĝ₁(z₁); sin θ·Ĝ₂(z₂)), two factors, each any other generator;
/// n = n₁ + n₂, k = k₁ + k₂ + 1 (θ).
public struct ProductGeneratorSpec: GeneratorComponent {
  public static let kind = "product"
  public static let summary = "GCCA's product prior (cos θ·G₁(z₁); sin θ·G₂(z₂)), written generator: {product: [g₁, g₂]}"
  public static let keys = [DeclaredKey("product", "list of 2 generators", "the two views' generators, each any other kind")]

  public var factors: [GeneratorSpec]
  public var n: Int { factors.reduce(0) { $0 + $1.n } }
  public var k: Int { factors.reduce(1) { $0 + $1.k } }
  public var seed: Int { 0 }

  public init(factors: [GeneratorSpec]) {
    self.factors = factors
  }

  public init(_ table: ConfigTable) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["product"], context: "for a product generator")
    let items = try table.required("product").list()
    guard items.count == 2 else {
      throw table.error("product", "the product generator takes exactly 2 factors (one per view), got \(items.count)")
    }
    var factors: [GeneratorSpec] = []
    for item in items {
      let factorTable = try item.table()
      if factorTable["product"] != nil {
        throw factorTable.error("product", "a product generator's factor cannot itself be a product")
      }
      factors.append(try GeneratorSpec(factorTable))
    }
    self.factors = factors
  }

  public var layerWidthSum: Double { factors.reduce(0.0) { $0 + $1.component.layerWidthSum } }
  public var weightBytes: Double { factors.reduce(0.0) { $0 + $1.component.weightBytes } }

  public func build(using factory: GeneratorFactory) throws -> BuiltGenerator {
    let built = try factors.map { try factory.build($0) }
    return BuiltGenerator(generator: ProductGenerator(factors: built.map(\.generator)), exactBasis: nil, factors: built)
  }

  private enum CodingKeys: String, CodingKey { case factors, n, k, seed }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(factors, forKey: .factors)
    try container.encode(n, forKey: .n)
    try container.encode(k, forKey: .k)
    try container.encode(seed, forKey: .seed)
  }

  public init(from decoder: any Decoder) throws {
    factors = try decoder.container(keyedBy: CodingKeys.self).decode([GeneratorSpec].self, forKey: .factors)
  }
}

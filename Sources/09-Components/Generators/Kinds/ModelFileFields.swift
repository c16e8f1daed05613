import GGEPModels

/// What a generator read from a model file keeps: the file, the content checksum the plan saw
/// (in every job key), n, k and the layer widths the file records (not in the key: the
/// checksum covers them). `vae-mnist` names the file `model`, `model` names it `file`.
struct ModelFileFields: Hashable, Sendable {
  var path: String
  var checksum: String
  var n: Int
  var k: Int
  var widths: [Int]

  init(path: String, header: ModelHeader) {
    self.path = path
    checksum = header.checksum
    n = header.outputDimension
    k = header.latentDimension
    widths = header.widths
  }

  var layerWidthSum: Double { widths.reduce(0.0) { $0 + Double($1) } }
  /// Float weights.
  var weightBytes: Double { DrawnWeights.count(widths) * 4 }

  /// The generator the file holds, refused if the file changed since the plan.
  func load() throws -> BuiltGenerator {
    let model = try ModelFile.load(path)
    guard model.checksum == checksum else {
      throw ModelFileError(
        file: path, object: "/",
        message: "content checksum is \(model.checksum.prefix(12))…, but the plan was made with \(checksum.prefix(12))…: the model file changed")
    }
    return BuiltGenerator(generator: model.generator, exactBasis: nil)
  }

  private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  /// The key's fields: the path under `pathKey`, the checksum, n, k and seed 0.
  func encode(to encoder: any Encoder, pathKey: String) throws {
    var container = encoder.container(keyedBy: Key.self)
    try container.encode(path, forKey: Key(pathKey))
    try container.encode(checksum, forKey: Key("checksum"))
    try container.encode(n, forKey: Key("n"))
    try container.encode(k, forKey: Key("k"))
    try container.encode(0, forKey: Key("seed"))
  }

  init(from decoder: any Decoder, pathKey: String) throws {
    let container = try decoder.container(keyedBy: Key.self)
    path = try container.decode(String.self, forKey: Key(pathKey))
    checksum = try container.decode(String.self, forKey: Key("checksum"))
    n = try container.decode(Int.self, forKey: Key("n"))
    k = try container.decode(Int.self, forKey: Key("k"))
    widths = (try? ModelHeader.verified(path).widths) ?? [k, n]
  }

  // The widths follow from the file, whose checksum is compared.
  static func == (a: Self, b: Self) -> Bool { (a.path, a.checksum, a.n, a.k) == (b.path, b.checksum, b.n, b.k) }
  func hash(into hasher: inout Hasher) {
    hasher.combine(path)
    hasher.combine(checksum)
  }
}

import Foundation
import GGEPCore
import GGEPPrior
import GGEPModels
import GGEPPipeline
import GGEPPlot

/// Where a report is kept: report.json beside the figures, and the `/report` group of the model
/// file itself (`ModelFile` documents the group), so the numbers travel with the weights.
///
///     /report                       group, replaced whole by each report
///       attributes                  format "ggep-model-report/1", ggep_version, model_checksum,
///                                   the settings (seed, images, samples, nearest, projection,
///                                   projection_batch, first_test_image, mmd_bandwidths) and
///                                   every summary number: cosine_{mean,min,p10,p25,median,p75,p90},
///                                   relative_error_{…}, projection_failures, mmd2,
///                                   mmd2_reference, nearest_train_samples_{…},
///                                   nearest_train_test_{…}, train_images
///       json                        1 string: the whole report, as report.json (compact)
///       cosines, relative_errors    float64 per representation image, in test-index order
///       nearest_train_samples       float64 per sample: distance to the nearest training image
///       nearest_train_test          float64 per test image: the same
///
/// Writing it changes no weight and no other attribute, so the weights' checksum (what job
/// keys hold) is the same before and after, and the file loads as before.
extension ModelReport {
  /// The group of a model file that holds its report.
  public static let group = "report"

  /// The report as JSON: keys sorted, non-finite numbers as the strings "inf", "-inf", "nan".
  public func json(pretty: Bool = true) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(self), as: UTF8.self) + (pretty ? "\n" : "")
  }

  public static func decode(json text: String) throws -> ModelReport {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode(ModelReport.self, from: Data(text.utf8))
  }

  /// Writes report.json into `directory` (atomically); returns its path.
  @discardableResult
  public func writeJSON(to directory: String) throws -> String {
    let path = directory + "/report.json"
    try FigureFile.write(try json(), to: path)
    return path
  }

  /// Puts the report into the model file at `path` as its `/report` group (replacing an older
  /// one), through a copy renamed over the file (`updateHDF5Atomically`): an interrupted write
  /// leaves the model as it was. Refused, the file untouched, when the file's recorded checksum
  /// is not the one of the model the report was computed for.
  public func write(into path: String) throws {
    try updateHDF5Atomically(path) { file in
      let root = file.root
      let recorded = (try? root.stringAttribute("checksum")) ?? "(none)"
      guard recorded == model.checksum else {
        throw UserError(
          "\(path): its weights' checksum is \(recorded), the report is of the model with checksum \(model.checksum); not written")
      }
      if root.exists(Self.group) { try root.remove(Self.group) }
      let group = try root.createGroup(Self.group)
      for (name, value) in attributes {
        switch value {
        case .text(let text): try group.setAttribute(name, text)
        case .integer(let integer): try group.setAttribute(name, integer)
        case .real(let real): try group.setAttribute(name, real)
        case .reals(let reals): try group.setAttribute(name, reals)
        }
      }
      try group.write("json", strings: [try json(pretty: false)])
      try group.write("cosines", representation.cosines)
      try group.write("relative_errors", representation.relativeErrors)
      try group.write("nearest_train_samples", nearestTraining.sampleMatches.map(\.distance))
      try group.write("nearest_train_test", nearestTraining.testMatches.map(\.distance))
    }
  }

  /// The report stored in the model file at `path`, or nil if it has none.
  public static func read(from path: String) throws -> ModelReport? {
    let file = try HDF5File.open(path)
    defer { try? file.close() }
    guard file.root.exists(group + "/json") else { return nil }
    let strings = try file.root.readStrings(group + "/json")
    guard strings.count == 1 else { throw UserError("\(path): /\(group)/json holds \(strings.count) strings, not one") }
    do {
      return try decode(json: strings[0])
    } catch {
      throw UserError("\(path): /\(group)/json is not a model report: \(error)")
    }
  }

  enum AttributeValue: Equatable {
    case text(String)
    case integer(Int64)
    case real(Double)
    case reals([Double])
  }

  /// The `/report` group's attributes, in the order they are written.
  var attributes: [(String, AttributeValue)] {
    func statistics(_ prefix: String, _ s: SummaryStatistics) -> [(String, AttributeValue)] {
      [
        ("\(prefix)_mean", .real(s.mean)), ("\(prefix)_min", .real(s.min)), ("\(prefix)_p10", .real(s.p10)),
        ("\(prefix)_p25", .real(s.p25)), ("\(prefix)_median", .real(s.median)), ("\(prefix)_p75", .real(s.p75)),
        ("\(prefix)_p90", .real(s.p90)), ("\(prefix)_max", .real(s.max)),
      ]
    }
    let r = representation
    return [
      ("format", .text(format)), ("ggep_version", .text(ggepVersion)), ("model_checksum", .text(model.checksum)),
      ("seed", .integer(Int64(bitPattern: settings.seed))), ("images", .integer(Int64(settings.images))),
      ("samples", .integer(Int64(settings.samples))), ("nearest", .integer(Int64(settings.nearest))),
      ("projection", .text(r.projector)), ("projection_batch", .integer(Int64(settings.projectionBatch))),
      ("first_test_image", .integer(Int64(r.firstTestImage))), ("mmd_bandwidths", .reals(mmd.bandwidths)),
    ]
      + statistics("cosine", r.cosine) + statistics("relative_error", r.relativeError)
      + [("projection_failures", .integer(Int64(r.failures))), ("mmd2", .real(mmd.mmd2)), ("mmd2_reference", .real(mmd.referenceMMD2))]
      + statistics("nearest_train_samples", nearestTraining.samples) + statistics("nearest_train_test", nearestTraining.test)
      + [("train_images", .integer(Int64(nearestTraining.trainImages)))]
  }
}

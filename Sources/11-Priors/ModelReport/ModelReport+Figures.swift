import Foundation
import GGEPCore
import GGEPPipeline
import GGEPPlot

/// The report's two image grids (`ImageGrid`, clamped to [0, 1] so that a faint or saturated
/// image looks so):
///
///     samples.png       8 × 8 samples G(z), z ~ N(0, I_k): the first 64 of the MMD²'s samples
///     projections.png   the first 16 representation images x (top) over their G(ẑ) (bottom)
extension ModelReport.Figures {
  /// Samples per row and per column of samples.png.
  public static let sampleGrid = 8
  /// Columns of projections.png.
  public static let pairCount = 16

  public static let samplesFile = "samples.png"
  public static let projectionsFile = "projections.png"

  /// Writes both PNGs (atomically) into `directory`, creating it; returns their paths. `name`
  /// (the model's) heads the titles.
  @discardableResult
  public func write(to directory: String, name: String) throws -> [String] {
    try FileSystem.createDirectory(directory)
    let rows = stride(from: 0, to: samples.count, by: Self.sampleGrid).map {
      ImageGrid.Row(label: "", images: Array(samples[$0..<min($0 + Self.sampleGrid, samples.count)]))
    }
    let sampleGrid = try ImageGrid(title: "\(name): G(z), z ~ N(0, I)", rows: rows, scale: 2, scaling: .clamp01)
    let pairs = try ImageGrid(
      title: "\(name): test images and G(z) of their projection",
      rows: [ImageGrid.Row(label: "x", images: targets), ImageGrid.Row(label: "G(z)", images: projections)], scale: 2,
      scaling: .clamp01)
    let paths = [directory + "/" + Self.samplesFile, directory + "/" + Self.projectionsFile]
    try sampleGrid.write(to: paths[0])
    try pairs.write(to: paths[1])
    return paths
  }
}

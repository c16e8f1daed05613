import Foundation
import GGEPCore
import GGEPPrior
import GGEPConfig
import GGEPPipeline
import GGEPPlot

/// The report as `ggep model-report` prints it: one block, a line per number group, each line
/// saying which images and settings the numbers are of.
extension ModelReport {
  public var text: String {
    let r = representation, p = settings.projection, nearest = nearestTraining
    let last = r.firstTestImage + r.images
    func statistics(_ s: SummaryStatistics, _ digits: Int) -> String {
      let f = { (value: Double) in String(format: "%.\(digits)f", value) }
      return "mean \(f(s.mean))  min \(f(s.min))  p10 \(f(s.p10))  p25 \(f(s.p25))  median \(f(s.median))  p75 \(f(s.p75))  p90 \(f(s.p90))"
    }
    // Labels padded to one width (counted in characters, so x̂ is one), numbers in columns.
    func row(_ label: String, _ value: String) -> String {
      "   " + label + String(repeating: " ", count: Swift.max(1, 40 - label.count)) + value
    }
    let n = mmd.samples, m = nearest.samples.count
    var lines = [
      "model \(model.file.isEmpty ? model.generator : model.file): \(model.kind), k = \(model.latentDimension), "
        + "n = \(model.outputDimension), checksum \(model.checksum)",
      "",
      "1. Representation error of \(r.images) held-out MNIST test images, test[\(r.firstTestImage)..<\(last)]: x̂ = G(ẑ), "
        + "ẑ by Adam (cosine mode, \(p.steps) steps, lr \(formatted(p.learningRate)), \(p.restarts) restarts, "
        + "λ_z \(formatted(p.lambdaZ)); \(settings.projectionBatch) images per batch, seed \(settings.seed))",
      row("cos(x, P_G(x))", statistics(r.cosine, 4)),
      row("‖x − x̂‖/‖x‖", statistics(r.relativeError, 4)),
    ]
    if r.failures > 0 { lines.append(row("not projected (cos 0, error 1)", "\(r.failures) image\(r.failures == 1 ? "" : "s")")) }
    lines += [
      "",
      "2. MMD² (unbiased) of \(n) samples G(z), z ~ N(0, I), to \(n) test images; Gaussian kernel mixture "
        + "h ∈ {\(mmd.bandwidths.map(formatted).joined(separator: ", "))} on pixels in [0, 1]",
      row("samples vs test[0..<\(n)]", String(format: "%.6f", mmd.mmd2)),
      row("test[0..<\(n)] vs test[\(n)..<\(2 * n)]", String(format: "%.6f", mmd.referenceMMD2) + "   (reference: a perfect model, within noise)"),
      "",
      "3. Euclidean distance to the nearest of the \(nearest.trainImages) training images",
      row("\(m) samples G(z)", statistics(nearest.samples, 3)),
      row("test[0..<\(m)] (reference)", statistics(nearest.test, 3)),
    ]
    return lines.joined(separator: "\n")
  }

  /// A number as short as it reads exactly (0.1, 0.001, 2.5).
  private func formatted(_ value: Double) -> String {
    value == value.rounded() && Swift.abs(value) < 1e15 ? String(Int(value)) : "\(value)"
  }
}

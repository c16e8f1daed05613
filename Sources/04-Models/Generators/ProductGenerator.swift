import Foundation
import GGEPPrior

/// The product prior of GCCA (docs/mathematics.md §9), Ĝ(z₁, z₂, θ) = (cos θ·Ĝ₁(z₁); sin θ·Ĝ₂(z₂)). As a
/// `Generator` it evaluates G(z₁, z₂, θ) = (cos θ·G₁(z₁); sin θ·G₂(z₂)) with the factors'
/// outputs unnormalised (normalising each half gives Ĝ), latent laid out as (z₁, z₂, θ), so
/// k = k₁ + k₂ + 1 and n = n₁ + n₂.
///
/// The projection never goes through this type: it is separable (`ProductProjector` projects
/// each half with its factor's own projector). `forward` and `pullback` exist so that the
/// product is a `Generator` like any other (evaluation, summaries); they allocate the factors'
/// workspaces per call and are not for hot loops.
public struct ProductGenerator: Generator {
  public let factors: [any Generator]

  public init(factors: [any Generator]) {
    precondition(factors.count == 2, "the product generator has two factors")
    self.factors = factors
  }

  public var latentDimension: Int { factors.reduce(1) { $0 + $1.latentDimension } }
  public var outputDimension: Int { factors.reduce(0) { $0 + $1.outputDimension } }
  public var summary: String { "product(\(factors.map(\.summary).joined(separator: ",")))" }

  public func makeWorkspace(rows: Int) -> GeneratorWorkspace {
    GeneratorWorkspace(rows: rows, widths: [latentDimension, outputDimension])
  }

  /// The factors' outputs G_j(z_j) (unscaled) and θ per row, for the latents in layer 0.
  private func factorOutputs(_ workspace: GeneratorWorkspace) -> (outputs: [[Float]], workspaces: [GeneratorWorkspace], theta: [Float]) {
    let rows = workspace.rows
    let k = latentDimension
    var offset = 0
    var outputs: [[Float]] = []
    var spaces: [GeneratorWorkspace] = []
    for factor in factors {
      let kj = factor.latentDimension
      var zj = [Float](repeating: 0, count: rows * kj)
      for r in 0..<rows { for j in 0..<kj { zj[r * kj + j] = workspace.layer(0)[r * k + offset + j] } }
      let ws = factor.makeWorkspace(rows: rows)
      zj.withUnsafeBufferPointer { factor.forward($0.baseAddress!, workspace: ws) }
      outputs.append(ws.output)
      spaces.append(ws)
      offset += kj
    }
    let theta = (0..<rows).map { workspace.layer(0)[$0 * k + k - 1] }
    return (outputs, spaces, theta)
  }

  public func forward(_ z: UnsafePointer<Float>, workspace: GeneratorWorkspace) {
    let rows = workspace.rows
    let (k, n) = (latentDimension, outputDimension)
    for i in 0..<(rows * k) { workspace.layer(0)[i] = z[i] }
    let (outputs, _, theta) = factorOutputs(workspace)
    let (n1, n2) = (factors[0].outputDimension, factors[1].outputDimension)
    for r in 0..<rows {
      let (c, s) = (cos(theta[r]), sin(theta[r]))
      for j in 0..<n1 { workspace.layer(1)[r * n + j] = c * outputs[0][r * n1 + j] }
      for j in 0..<n2 { workspace.layer(1)[r * n + n1 + j] = s * outputs[1][r * n2 + j] }
    }
  }

  public func pullback(_ g: UnsafePointer<Float>, into dz: UnsafeMutablePointer<Float>, workspace: GeneratorWorkspace) {
    let rows = workspace.rows
    let (k, n) = (latentDimension, outputDimension)
    let (outputs, spaces, theta) = factorOutputs(workspace)
    let n1 = factors[0].outputDimension
    var offset = 0
    for (index, factor) in factors.enumerated() {
      let (nj, kj) = (factor.outputDimension, factor.latentDimension)
      let start = index == 0 ? 0 : n1
      var gj = [Float](repeating: 0, count: rows * nj)
      for r in 0..<rows {
        let w = index == 0 ? cos(theta[r]) : sin(theta[r])
        for j in 0..<nj { gj[r * nj + j] = w * g[r * n + start + j] }
      }
      var dzj = [Float](repeating: 0, count: rows * kj)
      gj.withUnsafeBufferPointer { gp in
        dzj.withUnsafeMutableBufferPointer { factor.pullback(gp.baseAddress!, into: $0.baseAddress!, workspace: spaces[index]) }
      }
      for r in 0..<rows { for j in 0..<kj { dz[r * k + offset + j] = dzj[r * kj + j] } }
      offset += kj
    }
    let n2 = factors[1].outputDimension
    for r in 0..<rows {
      var d1: Float = 0
      var d2: Float = 0
      for j in 0..<n1 { d1 += outputs[0][r * n1 + j] * g[r * n + j] }
      for j in 0..<n2 { d2 += outputs[1][r * n2 + j] * g[r * n + n1 + j] }
      dz[r * k + k - 1] = -sin(theta[r]) * d1 + cos(theta[r]) * d2
    }
  }
}

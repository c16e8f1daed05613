import Foundation
import GGEPCore
import GGEPPrior

/// PyTorch's own numbers for a generator at fixed inputs, to hold an import against: a
/// safetensors file with `z` (rows × k), `y` = G(z) (rows × n), an upstream gradient `g`
/// (rows × n) and `dz` = (∂G/∂z)ᵀ g (rows × k), all computed by PyTorch in eval mode
/// (`scripts/export-pytorch-fixtures.py` writes them; the README shows the four lines for one's
/// own model).
public struct PyTorchReference: Sendable {
  public let path: String
  public let z: [Double], y: [Double], g: [Double], dz: [Double]

  public init(path: String) throws(SafeTensorsError) {
    let file = try SafeTensorsFile(path: path)
    self.path = path
    z = try file.doubles("z")
    y = try file.doubles("y")
    g = try file.doubles("g")
    dz = try file.doubles("dz")
  }

  /// ‖ggep − PyTorch‖ / ‖PyTorch‖ of the forward and of the pullback, over all rows.
  public struct Agreement: Sendable {
    public let rows: Int
    public let forward: Double
    public let pullback: Double
  }

  /// Runs `generator` forward on z and back with g, in Float, and compares with y and dz.
  public func compare(_ generator: any Generator) throws(SafeTensorsError) -> Agreement {
    let (k, n) = (generator.latentDimension, generator.outputDimension)
    guard !z.isEmpty, z.count % k == 0 else {
      throw SafeTensorsError(file: path, tensor: "z", "has \(z.count) entries, not rows of the generator's k = \(k)")
    }
    let rows = z.count / k
    for (name, tensor, width) in [("y", y, n), ("g", g, n), ("dz", dz, k)] where tensor.count != rows * width {
      throw SafeTensorsError(file: path, tensor: name, "has \(tensor.count) entries, but \(rows) rows of \(width) were expected (k = \(k), n = \(n))")
    }
    let ws = generator.makeWorkspace(rows: rows)
    let zf = z.map(Float.init), gf = g.map(Float.init)
    zf.withUnsafeBufferPointer { generator.forward($0.baseAddress!, workspace: ws) }
    let out = (0..<(rows * n)).map { Double(ws.outputPointer[$0]) }
    var dzOut = [Float](repeating: 0, count: rows * k)
    gf.withUnsafeBufferPointer { gp in dzOut.withUnsafeMutableBufferPointer { generator.pullback(gp.baseAddress!, into: $0.baseAddress!, workspace: ws) } }
    return Agreement(rows: rows, forward: Self.relative(out, y), pullback: Self.relative(dzOut.map(Double.init), dz))
  }

  static func relative(_ a: [Double], _ b: [Double]) -> Double {
    let norm = b.map { $0 * $0 }.reduce(0, +).squareRoot()
    let difference = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
    return norm > 0 ? difference / norm : difference
  }
}

/// A dense row-major matrix: the only matrix storage in ggep.
///
/// Row-major because every batch in the pipeline is "one vector per row" (a block of iterates,
/// a block of latent codes), so a row is contiguous and BLAS sees `rows × cols` with leading
/// dimension `cols`.
public struct Matrix<Scalar: BLASScalar>: Sendable, Equatable {
  public let rows: Int
  public let cols: Int
  public var storage: [Scalar]

  public init(rows: Int, cols: Int, repeating value: Scalar = 0) {
    precondition(rows >= 0 && cols >= 0)
    self.rows = rows
    self.cols = cols
    storage = [Scalar](repeating: value, count: rows * cols)
  }

  public init(rows: Int, cols: Int, storage: [Scalar]) {
    precondition(storage.count == rows * cols, "storage has \(storage.count) entries, not \(rows)×\(cols)")
    self.rows = rows
    self.cols = cols
    self.storage = storage
  }

  /// An `n × n` identity.
  public static func identity(_ n: Int) -> Matrix {
    var m = Matrix(rows: n, cols: n)
    for i in 0..<n { m.storage[i * n + i] = 1 }
    return m
  }

  public subscript(i: Int, j: Int) -> Scalar {
    get { storage[i * cols + j] }
    set { storage[i * cols + j] = newValue }
  }

  public func row(_ i: Int) -> ArraySlice<Scalar> { storage[(i * cols)..<((i + 1) * cols)] }

  public mutating func setRow(_ i: Int, _ values: some Collection<Scalar>) {
    precondition(values.count == cols)
    var j = i * cols
    for v in values { storage[j] = v; j += 1 }
  }

  public var transposed: Matrix {
    var t = Matrix(rows: cols, cols: rows)
    for i in 0..<rows { for j in 0..<cols { t.storage[j * rows + i] = storage[i * cols + j] } }
    return t
  }
}

extension Matrix where Scalar == Double {
  public var asFloat: Matrix<Float> { Matrix<Float>(rows: rows, cols: cols, storage: storage.map(Float.init)) }
}

extension Matrix where Scalar == Float {
  public var asDouble: Matrix<Double> { Matrix<Double>(rows: rows, cols: cols, storage: storage.map(Double.init)) }
}

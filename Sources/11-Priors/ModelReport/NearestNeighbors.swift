import Foundation
import GGEPCore
import GGEPModels
import GGEPConfig
import GGEPPipeline

/// The nearest reference row to each query row in Euclidean distance (a model report's
/// "distance of a sample to its nearest training image", docs/mathematics.md §11).
///
/// Ranking by chunked GEMM: for a chunk of `chunkRows` reference rows B and all queries A,
///
///     d²(aᵢ, bⱼ) ≈ ‖aᵢ‖² + ‖bⱼ‖² − 2 aᵢ·bⱼ        (−2ABᵀ by one `Float.gemm` per chunk)
///
/// and each chunk keeps, per query, its first row of least d² (ties to the lower index); the
/// chunks are then merged in chunk order with the same rule. The reported distance is then
/// recomputed exactly, ‖aᵢ − b‖ summed in Double, for the chosen row b: so a row's distance to
/// itself is exactly 0 (the GEMM form is not: it cancels ‖a‖² ≈ 100 against 2a·a in Float,
/// leaving ≈ 1e-5 in d², 3e-3 in d). The GEMM form is off by ε of the order of
/// 1e-6 (‖a‖² + ‖b‖²), so a row it misses is closer than the chosen one by less than 2ε in d²:
/// at MNIST's norms (‖a‖² ≈ 100) and nearest distances (≈ 4), ≈ 4e-4 in d², 5e-5 in d. The
/// distance is right to that; the index may be another near-tie.
///
/// Cost: 2·queries·references·d flops of GEMM, one chunk (queries × `chunkRows` Floats) per
/// worker. Chunks are fixed by the data, not by `threads`, and run with whatever BLAS thread
/// count the caller set (one, for results that do not depend on the machine's load), so the
/// result is the same for any `threads`.
public enum NearestNeighbors {
  /// The reference rows one GEMM covers (with 200 queries, a 1.6 MB product).
  public static let chunkRows = 2048

  public struct Match: Codable, Equatable, Sendable {
    /// Row of the reference matrix.
    public var index: Int
    /// ‖query − reference[index]‖, in Double.
    public var distance: Double
  }

  /// `chunkRows` other than the default: for tests of the merge across chunks.
  public static func nearest(
    queries: Matrix<Float>, in reference: Matrix<Float>, threads: Int, chunkRows: Int = chunkRows
  ) throws -> [Match] {
    precondition(chunkRows >= 1)
    precondition(queries.cols == reference.cols, "queries and reference rows differ in length")
    precondition(reference.rows >= 1, "no reference rows")
    let (q, d) = (queries.rows, queries.cols)
    guard q > 0 else { return [] }
    let queryNorms = squaredNorms(queries)
    let referenceNorms = squaredNorms(reference)
    let chunks = (reference.rows + chunkRows - 1) / chunkRows

    // Per chunk and query: the first row of least estimated d² in the chunk.
    let perChunk = try Scheduler(concurrency: max(1, threads)).map(count: chunks) { chunk -> [(index: Int, estimate: Float)] in
      let first = chunk * chunkRows
      let rows = min(chunkRows, reference.rows - first)
      var products = [Float](repeating: 0, count: q * rows)
      queries.storage.withUnsafeBufferPointer { a in
        reference.storage.withUnsafeBufferPointer { b in
          products.withUnsafeMutableBufferPointer { c in
            Float.gemm(false, true, q, rows, d, -2, a.baseAddress!, d, b.baseAddress! + first * d, d, 0, c.baseAddress!, rows)
          }
        }
      }
      return (0..<q).map { i in
        var best = (index: first, estimate: Float.infinity)
        for j in 0..<rows {
          let estimate = products[i * rows + j] + queryNorms[i] + referenceNorms[first + j]
          if estimate < best.estimate { best = (first + j, estimate) }
        }
        return best
      }
    }

    return (0..<q).map { i in
      var best = perChunk[0][i]
      for chunk in perChunk.dropFirst() where chunk[i].estimate < best.estimate { best = chunk[i] }
      var sum = 0.0
      for k in 0..<d {
        let difference = Double(queries.storage[i * d + k]) - Double(reference.storage[best.index * d + k])
        sum += difference * difference
      }
      return Match(index: best.index, distance: sum.squareRoot())
    }
  }

  /// ‖row‖² of each row, summed in Double and rounded once.
  private static func squaredNorms(_ m: Matrix<Float>) -> [Float] {
    (0..<m.rows).map { i in
      var sum = 0.0
      for k in 0..<m.cols {
        let v = Double(m.storage[i * m.cols + k])
        sum += v * v
      }
      return Float(sum)
    }
  }
}

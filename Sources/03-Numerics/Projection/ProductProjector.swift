import Foundation
import GGEPCore

/// The separable projection onto the product prior Ĝ(z₁, z₂, θ) = (cos θ·Ĝ₁(z₁); sin θ·Ĝ₂(z₂))
/// (docs/mathematics.md §9, GCCA): for a target x = (x₁; x₂),
///
///     u_j = P_j(x_j),   θ = atan2(⟨x₂, u₂⟩₊, ⟨x₁, u₁⟩₊),   P(x) = (cos θ·u₁; sin θ·u₂)
///
/// with ⟨·⟩₊ = max(·, 0). Exact when each factor's projection is: ‖x − (a u₁; b u₂)‖ over unit
/// u_j and a² + b² = 1 is minimised by the unit vector along (⟨x₁,u₁⟩₊, ⟨x₂,u₂⟩₊). A batch makes
/// one projection call per factor (the targets' halves); a zero half is not projected (its u_j
/// is 0 and its ⟨x_j, u_j⟩ is 0).
///
/// Each factor gets its own per-target slot (its own restart stream and warm start), made once
/// from the target's slot and kept in the projector's state; the slot's `lastLoss` is the sum
/// of the factors' losses. A target whose half cannot be projected fails alone, with the view
/// and the reason.
public struct ProductProjector: Projector {
  public let factors: [any Projector]

  /// The factors' slots of one target, their streams drawn from the target's stream once (so
  /// they depend only on the job).
  public final class State: ProjectorState {
    public let children: [ProjectionSlot]
    init(children: [ProjectionSlot]) { self.children = children }
  }

  public init(factors: [any Projector]) {
    precondition(factors.count == 2)
    self.factors = factors
  }

  public var dimension: Int { factors.reduce(0) { $0 + $1.dimension } }
  public var summary: String { "product(\(factors.map(\.summary).joined(separator: ",")))" }

  public func projectRows(_ targets: Matrix<Double>, slots: [ProjectionSlot]) -> ProjectionOutcome {
    precondition(targets.cols == dimension && slots.count == targets.rows)
    let p = targets.rows
    let n = dimension
    let children = slots.map { slot in
      slot.state { () -> State in
        let seed = slot.rng.next()
        return State(children: (0..<factors.count).map { j in
          ProjectionSlot(rng: RandomStream(seed: seed, key: "product factor \(j)", purpose: "projection"), oracleScale: slot.oracleScale)
        })
      }.children
    }
    var halves: [Matrix<Double>] = []  // p × n_j projections (zero rows for zero or failed halves)
    var inner = [[Double]](repeating: [0, 0], count: p)
    var reasons = [[String]](repeating: [], count: p)
    var offset = 0
    for (index, factor) in factors.enumerated() {
      let nj = factor.dimension
      let part = columns(targets, from: offset, count: nj)
      let live = (0..<p).filter { i in
        let row = part.row(i)
        let size = dot(row, row).squareRoot()
        return size > 0 && size.isFinite
      }
      var projected = Matrix<Double>(rows: p, cols: nj)
      if !live.isEmpty {
        let block = Matrix(rows: live.count, cols: nj, storage: live.flatMap { Array(part.row($0)) })
        let out = factor.projectRows(block, slots: live.map { children[$0][index] })
        for (row, i) in live.enumerated() {
          if let failure = out.failures[row] {
            // A half that cannot be projected fails its target (it is not silently dropped).
            reasons[i].append("view \(index + 1): \(failure)")
            continue
          }
          for j in 0..<nj { projected.storage[i * nj + j] = out.projected.storage[row * nj + j] }
          inner[i][index] = max(dot(part.row(i), out.projected.row(row)), 0)
        }
      }
      halves.append(projected)
      offset += nj
    }
    var out = Matrix<Double>(rows: p, cols: n)
    var failures: [Int: ProjectionError] = [:]
    let n1 = factors[0].dimension
    let n2 = factors[1].dimension
    for i in 0..<p {
      if !reasons[i].isEmpty {
        failures[i] = ProjectionError(message: reasons[i].joined(separator: "; "))
        continue
      }
      let theta = atan2(inner[i][1], inner[i][0])
      let (c, s) = (cos(theta), sin(theta))
      for j in 0..<n1 { out.storage[i * n + j] = c * halves[0].storage[i * n1 + j] }
      for j in 0..<n2 { out.storage[i * n + n1 + j] = s * halves[1].storage[i * n2 + j] }
      guard norm(Array(out.row(i))) > 0 else {
        failures[i] = ProjectionError(message: "both halves are zero or orthogonal to their factors' ranges")
        continue
      }
      slots[i].lastLoss = children[i].map { $0.lastLoss }.filter { !$0.isNaN }.reduce(0, +)
    }
    return ProjectionOutcome(projected: out, failures: failures)
  }
}

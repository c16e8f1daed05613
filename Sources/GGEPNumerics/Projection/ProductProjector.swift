import Foundation
import GGEPCore
import GGEPModels

/// The separable projection onto the product prior Ĝ(z₁, z₂, θ) = (cos θ·Ĝ₁(z₁); sin θ·Ĝ₂(z₂))
/// (SPEC 9, GCCA): for a target x = (x₁; x₂),
///
///     u_j = P_j(x_j),   θ = atan2(⟨x₂, u₂⟩₊, ⟨x₁, u₁⟩₊),   P(x) = (cos θ·u₁; sin θ·u₂)
///
/// with ⟨·⟩₊ = max(·, 0). Exact when each factor's projection is: ‖x − (a u₁; b u₂)‖ over unit
/// u_j and a² + b² = 1 is minimised by the unit vector along (⟨x₁,u₁⟩₊, ⟨x₂,u₂⟩₊). A batch makes
/// one projection call per factor (the targets' halves); a zero half is not projected (its u_j
/// is 0 and its ⟨x_j, u_j⟩ is 0).
///
/// Each factor gets its own per-target slot (its own restart stream and warm start), derived
/// once from the target's slot; the slot's `lastLoss` is the sum of the factors' losses.
public struct ProductProjector: Projector {
  public let factors: [any Projector]
  private let subSlots = SubSlots()

  public init(factors: [any Projector]) {
    precondition(factors.count == 2)
    self.factors = factors
  }

  public var dimension: Int { factors.reduce(0) { $0 + $1.dimension } }
  public var summary: String { "product(\(factors.map(\.summary).joined(separator: ",")))" }

  public func project(_ targets: Matrix<Double>, slots: [ProjectionSlot]) throws -> Matrix<Double> {
    precondition(targets.cols == dimension && slots.count == targets.rows)
    let p = targets.rows
    let n = dimension
    let children = slots.map { subSlots.children(of: $0, count: factors.count) }
    var halves: [Matrix<Double>] = []  // p × n_j projections (zero rows for zero halves)
    var inner = [[Double]](repeating: [0, 0], count: p)
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
        let out = try factor.project(block, slots: live.map { children[$0][index] })
        for (row, i) in live.enumerated() {
          for j in 0..<nj { projected.storage[i * nj + j] = out.storage[row * nj + j] }
          inner[i][index] = max(dot(part.row(i), out.row(row)), 0)
        }
      }
      halves.append(projected)
      offset += nj
    }
    var out = Matrix<Double>(rows: p, cols: n)
    let n1 = factors[0].dimension
    let n2 = factors[1].dimension
    for i in 0..<p {
      let theta = atan2(inner[i][1], inner[i][0])
      let (c, s) = (cos(theta), sin(theta))
      for j in 0..<n1 { out.storage[i * n + j] = c * halves[0].storage[i * n1 + j] }
      for j in 0..<n2 { out.storage[i * n + n1 + j] = s * halves[1].storage[i * n2 + j] }
      guard norm(Array(out.row(i))) > 0 else {
        throw ProjectionError(message: "target \(i): both halves are zero or orthogonal to their factors' ranges")
      }
      slots[i].lastLoss = children[i].map(\.lastLoss).filter { !$0.isNaN }.reduce(0, +)
    }
    return out
  }
}

/// Per-factor slots of each target slot, created on first use (their streams drawn from the
/// target slot's stream, so they depend only on the job).
final class SubSlots: @unchecked Sendable {
  // @unchecked: `table` is only touched under `lock`.
  private let lock = NSLock()
  private var table: [ObjectIdentifier: (owner: ProjectionSlot, children: [ProjectionSlot])] = [:]

  func children(of slot: ProjectionSlot, count: Int) -> [ProjectionSlot] {
    lock.withLock {
      if let hit = table[ObjectIdentifier(slot)] { return hit.children }
      let seed = slot.rng.next()
      let made = (0..<count).map { j in
        ProjectionSlot(rng: RandomStream(seed: seed, key: "product factor \(j)", purpose: "projection"), oracleScale: slot.oracleScale)
      }
      // The owner is kept so that its identifier is never reused while the entry lives.
      table[ObjectIdentifier(slot)] = (slot, made)
      return made
    }
  }
}

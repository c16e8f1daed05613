/// The project's one random generator: xoshiro256** seeded through SplitMix64.
///
/// Both are fully specified integer algorithms (Blackman & Vigna), so a stream's bits are the
/// same on every platform. Uniforms take the top 53 bits. Normals use the ziggurat method in
/// Doornik's ZIGNOR form (128 blocks, R = 3.442619855899): one 64-bit draw gives the block
/// (its low 7 bits) and a uniform on (−1, 1) (its top 53 bits); about 99 % of draws are
/// accepted with one comparison and one multiplication, the rest use `exp`/`log` (tables are
/// built once with `exp`, `log` and `sqrt`). Sampling m×n Gaussian matrices is the largest
/// cost of a job outside the projection, which is why this transform and not Box–Muller.
///
/// Streams are never shared between jobs: each job derives its own from
/// (sweep seed, job key, purpose), so results do not depend on thread count or job order (docs/mathematics.md §8).
public struct RandomStream: Sendable {
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

  public init(seed: UInt64) {
    var sm = SplitMix64(state: seed)
    s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    if s0 | s1 | s2 | s3 == 0 { s0 = 0x9E37_79B9_7F4A_7C15 }  // the all-zero state is a fixed point
  }

  /// A stream from a raw xoshiro256** state (reference test vectors).
  init(state: (UInt64, UInt64, UInt64, UInt64)) {
    (s0, s1, s2, s3) = state
  }

  /// The raw state, to checkpoint a stream mid-run: `RandomStream(state: s.state)` continues
  /// exactly where `s` is.
  public var state: [UInt64] { [s0, s1, s2, s3] }

  /// A stream continuing from a `state` saved earlier (four words, not all zero).
  public init?(state: [UInt64]) {
    guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
    (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
  }

  /// A stream for one purpose of one job: the seed mixes the sweep seed, a stable text key
  /// (job key, generator name, …) and a purpose label, so two purposes never share bits.
  public init(seed: UInt64, key: String, purpose: String = "") {
    var h = SplitMix64.mix(seed ^ 0x6A09_E667_F3BC_C908)
    for byte in key.utf8 { h = SplitMix64.mix(h ^ UInt64(byte)) }
    h = SplitMix64.mix(h ^ 0xFF)
    for byte in purpose.utf8 { h = SplitMix64.mix(h ^ UInt64(byte)) }
    self.init(seed: h)
  }

  @inline(__always)
  public mutating func next() -> UInt64 {
    let result = rotl(s1 &* 5, 7) &* 9
    let t = s1 << 17
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 45)
    return result
  }

  /// Uniform on [0, 1) with 53 random bits.
  @inline(__always)
  public mutating func uniform() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// Uniform on [a, b).
  public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }

  /// Uniform integer in 0..<bound (Lemire's unbiased multiply-and-reject).
  public mutating func integer(below bound: Int) -> Int {
    precondition(bound > 0)
    let b = UInt64(bound)
    var m = next().multipliedFullWidth(by: b)
    if m.low < b {
      let threshold = (0 &- b) % b
      while m.low < threshold { m = next().multipliedFullWidth(by: b) }
    }
    return Int(m.high)
  }

  /// Standard normal by the ziggurat (ZIGNOR, Doornik 2005).
  @inline(__always)
  public mutating func normal() -> Double {
    let z = Ziggurat.tables
    while true {
      let bits = next()
      let i = Int(bits & 0x7F)
      let u = Double(bits >> 11) * 0x1.0p-52 - 1  // uniform on [−1, 1)
      if Swift.abs(u) < z.ratio[i] { return u * z.x[i] }
      if i == 0 { return tail(negative: u < 0) }
      let x = u * z.x[i]
      let f0 = _exp(-0.5 * (z.x[i] * z.x[i] - x * x))
      let f1 = _exp(-0.5 * (z.x[i + 1] * z.x[i + 1] - x * x))
      if f1 + uniform() * (f0 - f1) < 1 { return x }
    }
  }

  /// The base strip's tail beyond R (Marsaglia's method).
  private mutating func tail(negative: Bool) -> Double {
    let r = Ziggurat.r
    var x: Double, y: Double
    repeat {
      x = _log(1 - uniform()) / r
      y = _log(1 - uniform())
    } while -2 * y < x * x
    return negative ? x - r : r - x
  }

  public mutating func fillNormal(_ buffer: inout [Double], scale: Double = 1) {
    for i in buffer.indices { buffer[i] = scale * normal() }
  }

  public mutating func normals(_ count: Int, scale: Double = 1) -> [Double] {
    var out = [Double](repeating: 0, count: count)
    fillNormal(&out, scale: scale)
    return out
  }

  /// A uniformly random subset of `count` distinct indices from 0..<n, in draw order
  /// (partial Fisher–Yates).
  public mutating func sample(_ count: Int, from n: Int) -> [Int] {
    precondition(count <= n)
    var pool = Array(0..<n)
    for i in 0..<count {
      let j = i + integer(below: n - i)
      pool.swapAt(i, j)
    }
    return Array(pool[0..<count])
  }

  @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// The ZIGNOR tables: x[i] the right edges of the 128 blocks of equal area V, ratio[i] =
/// x[i+1]/x[i] the fraction of block i inside the density everywhere.
enum Ziggurat {
  static let blocks = 128
  static let r = 3.442619855899
  static let area = 9.91256303526217e-3

  struct Tables: Sendable {
    var x: [Double]
    var ratio: [Double]
  }

  static let tables: Tables = {
    var x = [Double](repeating: 0, count: blocks + 1)
    var f = _exp(-0.5 * r * r)
    x[0] = area / f
    x[1] = r
    for i in 2..<blocks {
      x[i] = (-2 * _log(area / x[i - 1] + f)).squareRoot()
      f = _exp(-0.5 * x[i] * x[i])
    }
    x[blocks] = 0
    let ratio = (0..<blocks).map { x[$0 + 1] / x[$0] }
    return Tables(x: x, ratio: ratio)
  }()
}

/// SplitMix64 (Steele, Lea & Flood): used only to expand seeds into xoshiro state.
struct SplitMix64 {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    return SplitMix64.mix(state)
  }
  static func mix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Foundation
@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _exp(_ x: Double) -> Double { Foundation.exp(x) }
#endif

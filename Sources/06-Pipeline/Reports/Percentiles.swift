import GGEPConfig
/// Percentiles as reports state them: linear interpolation between order statistics (numpy's
/// default, `numpy.percentile(values, 100 q)`), so every table can be re-derived with numpy.
public enum Percentiles {
  /// The q-quantile (0 ≤ q ≤ 1) of ascending `sorted` values: with position p = q·(count − 1),
  /// sorted[⌊p⌋] + (p − ⌊p⌋)(sorted[⌊p⌋ + 1] − sorted[⌊p⌋]). Infinite neighbours are not
  /// interpolated (that would give NaN): the nearer one is returned. NaN for no values.
  public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let position = q * Double(sorted.count - 1)
    let low = Int(position.rounded(.down)), high = min(low + 1, sorted.count - 1)
    let (a, b) = (sorted[low], sorted[high])
    if a == b || position == Double(low) { return a }
    if !a.isFinite || !b.isFinite { return position - Double(low) < 0.5 ? a : b }
    return a + (position - Double(low)) * (b - a)
  }
}

/// What a report says about a list of values: how many, the mean, the extremes and the 10th,
/// 25th, 50th, 75th and 90th percentiles (`Percentiles.percentile`). NaN values are left out of
/// all of them; the mean is summed in the values' order.
public struct SummaryStatistics: Codable, Equatable, Sendable {
  public var count: Int
  public var mean: Double
  public var min: Double
  public var p10: Double
  public var p25: Double
  public var median: Double
  public var p75: Double
  public var p90: Double
  public var max: Double

  public init(_ values: [Double]) {
    let kept = values.filter { !$0.isNaN }
    let sorted = kept.sorted()
    count = kept.count
    mean = kept.isEmpty ? .nan : kept.reduce(0, +) / Double(kept.count)
    min = sorted.first ?? .nan
    p10 = Percentiles.percentile(sorted, 0.10)
    p25 = Percentiles.percentile(sorted, 0.25)
    median = Percentiles.percentile(sorted, 0.50)
    p75 = Percentiles.percentile(sorted, 0.75)
    p90 = Percentiles.percentile(sorted, 0.90)
    max = sorted.last ?? .nan
  }
}

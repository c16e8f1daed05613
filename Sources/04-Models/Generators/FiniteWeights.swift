/// A model's weights must all be finite: one NaN or infinity makes G(z) NaN for every z, so
/// that no signal can be drawn and every inversion "converges" to NaN. Model files are checked
/// when read, at plan time, and the first bad value is named.
public enum FiniteWeights {
  /// Nil when every value is finite; otherwise where the first one that is not sits, and what
  /// it is, in words for an error message ("NaN at index 17 of 12544").
  public static func problem(_ values: [Float]) -> String? {
    guard let index = values.firstIndex(where: { !$0.isFinite }) else { return nil }
    let value = values[index]
    let what = value.isNaN ? "NaN" : (value > 0 ? "+infinity" : "−infinity")
    let count = values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
    return "holds \(count) non-finite value(s), the first \(what) at index \(index) of \(values.count); a model with NaN or infinite weights gives no usable output"
  }
}

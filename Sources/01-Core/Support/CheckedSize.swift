/// Sizes computed from what a user or a file wrote: element counts, byte counts and memory
/// estimates. A hostile or mistyped value (a shape of [2⁶², 4], a width of Int64.max) must be
/// refused by name, never trap on overflow, so every such product and sum goes through here.
public enum CheckedSize {
  /// ∏ factors, or nil when a factor is negative or the product does not fit in `Int`.
  /// The empty product is 1 (a scalar).
  public static func product<S: Sequence>(_ factors: S) -> Int? where S.Element == Int {
    var result = 1
    for factor in factors {
      guard factor >= 0 else { return nil }
      let (next, overflow) = result.multipliedReportingOverflow(by: factor)
      guard !overflow else { return nil }
      result = next
    }
    return result
  }

  /// ∑ terms, or nil when a term is negative or the sum does not fit in `Int`.
  public static func sum<S: Sequence>(_ terms: S) -> Int? where S.Element == Int {
    var result = 0
    for term in terms {
      guard term >= 0 else { return nil }
      let (next, overflow) = result.addingReportingOverflow(term)
      guard !overflow else { return nil }
      result = next
    }
    return result
  }
}

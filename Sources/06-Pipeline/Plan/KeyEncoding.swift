import GGEPConfig
/// How a job key stays put when the config schema grows.
///
/// A job key is a hash of the point's `identityJSON` (and its signal and trial), which is the
/// canonical JSON of its spec. The fields that existed when the keys were pinned
/// (`Tests/GGEPTests/Fixtures/job-keys.json`) are always encoded, defaults included, exactly as
/// then. A field added since is encoded only when its value is not its default — so a config
/// that does not set it (every existing one) keeps every key, its cached results and its random
/// streams, and one that sets it gets new keys, as it should. `JobKeyPinTests` fails if a
/// change breaks this.
extension KeyedEncodingContainer {
  /// Encodes `value` unless it equals `fallback`, the value every config had before the field
  /// existed.
  public mutating func encode<T: Encodable & Equatable>(_ value: T, forKey key: Key, unlessEqualTo fallback: T) throws {
    guard value != fallback else { return }
    try encode(value, forKey: key)
  }
}

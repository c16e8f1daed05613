import Synchronization

/// A small locked dictionary (checked user data, file checksums), cleared when it grows.
package final class LockedCache<Value: Sendable>: Sendable {
  private let entries = Mutex<[String: Value]>([:])

  package init() {}

  package func get(_ key: String) -> Value? {
    entries.withLock { $0[key] }
  }

  package func set(_ key: String, _ value: Value) {
    entries.withLock { entries in
      if entries.count > 8 { entries.removeAll() }
      entries[key] = value
    }
  }
}

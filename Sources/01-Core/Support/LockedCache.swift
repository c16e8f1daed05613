import Foundation

/// A small locked dictionary (checked user data, file checksums), cleared when it grows.
package final class LockedCache<Value: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var entries: [String: Value] = [:]

  package init() {}

  package func get(_ key: String) -> Value? {
    lock.lock()
    defer { lock.unlock() }
    return entries[key]
  }

  package func set(_ key: String, _ value: Value) {
    lock.lock()
    defer { lock.unlock() }
    if entries.count > 8 { entries.removeAll() }
    entries[key] = value
  }
}

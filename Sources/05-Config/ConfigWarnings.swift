import Synchronization

/// What reading a config has to say that is not an error (a model file's tensors that the
/// architecture leaves unused): collected while a plan is made and shown by the command that
/// made it, so that decoding itself never prints. Each message is kept once.
public final class ConfigWarnings: Sendable {
  private let messages = Mutex<[String]>([])

  public init() {}

  /// The warnings so far, in the order first given.
  public var all: [String] { messages.withLock { $0 } }

  /// The collector of the plan being made on this task, if any.
  @TaskLocal public static var current: ConfigWarnings?

  /// Records `message` for the plan being made (no plan being made: nobody to tell).
  public static func warn(_ message: String) {
    current?.messages.withLock { if !$0.contains(message) { $0.append(message) } }
  }

  /// Runs `body` with this collector current.
  public func collecting<T>(_ body: () throws(ConfigError) -> T) throws(ConfigError) -> T {
    do {
      return try Self.$current.withValue(self) { try body() }
    } catch let error as ConfigError {
      throw error
    } catch {
      // `body` throws ConfigError only; withValue's untyped rethrow loses that.
      throw ConfigError(file: "", keyPath: "", message: "\(error)")
    }
  }
}

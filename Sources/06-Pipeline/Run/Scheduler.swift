import Dispatch
import Foundation
import Synchronization
import GGEPCore
import GGEPConfig

/// Runs independent work items on a bounded number of Dispatch workers.
///
/// Each worker pulls the next item index from a shared counter, so at most `concurrency` items
/// run at once and no item waits on another; `cancel()` (Ctrl-C) stops new items from starting
/// while those in flight finish and report. BLAS gets one thread per worker (set by the caller)
/// so the two levels of parallelism never oversubscribe the cores.
public final class Scheduler: Sendable {
  private struct State {
    var nextIndex = 0
    var cancelled = false
  }
  private let state = Mutex(State())
  public let concurrency: Int

  public init(concurrency: Int) {
    precondition(concurrency >= 1)
    self.concurrency = concurrency
  }

  public var isCancelled: Bool { state.withLock { $0.cancelled } }
  public func cancel() { state.withLock { $0.cancelled = true } }

  /// Runs `work(i)` for every i in 0..<count unless cancelled; `work` is called concurrently.
  /// Returns the indices that were started (all of them unless cancelled).
  @discardableResult
  public func run(count: Int, _ work: @Sendable (Int) -> Void) -> Int {
    state.withLock { $0.nextIndex = 0 }
    let workers = min(concurrency, max(count, 1))
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      while let index = claim(below: count) { work(index) }
    }
    return state.withLock { min($0.nextIndex, count) }
  }

  private func claim(below count: Int) -> Int? {
    state.withLock { state in
      guard !state.cancelled, state.nextIndex < count else { return nil }
      defer { state.nextIndex += 1 }
      return state.nextIndex
    }
  }
}

extension Scheduler {
  /// `work(i)` for every i in 0..<count on the scheduler's workers, the results in index order:
  /// which worker ran an item, and when, never shows in the result. If items throw, the error of
  /// the lowest index is rethrown once all items have run. For computations, not for runs that
  /// may be cancelled (a cancelled map stops with an error).
  public func map<T: Sendable>(count: Int, _ work: @Sendable (Int) throws -> T) throws -> [T] {
    let results = IndexedResults<T>(count: count)
    let started = run(count: count) { index in results.set(index, Result { try work(index) }) }
    guard started == count else { throw UserError("cancelled after \(started) of \(count) parts") }
    return try results.values()
  }
}

/// The results of `Scheduler.map`, one slot per index, filled from any worker.
private final class IndexedResults<T: Sendable>: Sendable {
  private let slots: Mutex<[Result<T, any Error>?]>

  package init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

  package func set(_ index: Int, _ result: sending Result<T, any Error>) { slots.withLock { $0[index] = result } }

  package func values() throws -> [T] {
    try slots.withLock { slots in try slots.map { try $0!.get() } }
  }
}

/// Turns SIGINT (Ctrl-C) and SIGTERM (Slurm's `scancel` and time limit, `kill`) into a
/// cancellation request: the first one finishes the batches in flight and saves; a second one
/// exits at once — the journal keeps every finished batch.
public final class InterruptHandler: @unchecked Sendable {
  // @unchecked: `sources` is created once, in `init`, and only read afterwards (DispatchSource
  // is not Sendable); the signal counts are in a Mutex.
  private var sources: [DispatchSourceSignal] = []
  private let received = Mutex<(count: Int, first: Int32?)>((0, nil))
  private static let signals: [Int32] = [SIGINT, SIGTERM]

  public init(onFirst: @escaping @Sendable () -> Void) {
    for number in Self.signals {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { [weak self] in
        guard let self else { return }
        let n = self.received.withLock { received in
          received.count += 1
          if received.first == nil { received.first = number }
          return received.count
        }
        let name = number == SIGINT ? "interrupted" : "terminated (SIGTERM)"
        if n == 1 {
          FileHandle.standardError.write(Data("\n\(name): finishing the batches in flight and saving (signal again to quit now)\n".utf8))
          onFirst()
        } else {
          FileHandle.standardError.write(Data("\nquitting; finished batches are kept in the journal and picked up by the next run\n".utf8))
          // `_exit`, not `exit`: exit handlers and static destructors would run while the
          // workers are still inside BLAS or CLP and pull their buffers away (a segfault,
          // exit 139). Every finished batch is already in the journal, written and closed.
          _exit(128 + number)
        }
      }
      source.resume()
      sources.append(source)
    }
  }

  public var wasInterrupted: Bool { received.withLock { $0.count > 0 } }
  /// The first signal received (SIGINT or SIGTERM), if any.
  public var signalReceived: Int32? { received.withLock { $0.first } }

  deinit {
    for source in sources { source.cancel() }
    for number in Self.signals { signal(number, SIG_DFL) }
  }
}

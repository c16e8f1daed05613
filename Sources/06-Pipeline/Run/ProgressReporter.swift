import Foundation
import Synchronization
import GGEPCore

/// Progress of a run: a live, rewritten line with done/total and ETA on a terminal, plain
/// log lines otherwise (CI logs, files).
public final class ProgressReporter: Sendable {
  private struct Counts {
    var done = 0
    var failed = 0
  }
  private let counts = Mutex(Counts())
  private let total: Int
  private let start = Date()
  private let interactive: Bool
  private let output: FileHandle

  public init(totalJobs: Int, output: FileHandle = .standardOutput, interactive: Bool? = nil) {
    total = totalJobs
    self.output = output
    self.interactive = interactive ?? (isatty(output.fileDescriptor) == 1)
  }

  /// One finished batch: `metric` names the kind's summary metric, `meanMetric` its mean over
  /// the batch's completed jobs.
  public func batchFinished(label: String, jobs: Int, failedJobs: Int, seconds: Double, metric: String, meanMetric: Double) {
    counts.withLock { counts in
      counts.done += jobs
      counts.failed += failedJobs
      let (done, failed) = (counts.done, counts.failed)
      let elapsed = Date().timeIntervalSince(start)
      let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
      if interactive {
        let line = String(
          format: "\r[%d/%d jobs] %.0f%%  elapsed %@  eta %@%@  \u{1B}[K", done, total, 100 * Double(done) / Double(max(total, 1)),
          Self.clock(elapsed), Self.clock(eta), failed > 0 ? "  failed \(failed)" : "")
        output.write(Data(line.utf8))
      } else {
        let line = String(
          format: "[%d/%d] %@: %d jobs, %.2fs, mean %@ %@%@\n", done, total, label, jobs, seconds, metric,
          meanMetric.isNaN ? "n/a" : String(format: "%.4f", meanMetric),
          failedJobs > 0 ? ", \(failedJobs) failed" : "")
        output.write(Data(line.utf8))
      }
    }
  }

  public func finish() {
    counts.withLock { _ in if interactive { output.write(Data("\n".utf8)) } }
  }

  package static func clock(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
  }
}

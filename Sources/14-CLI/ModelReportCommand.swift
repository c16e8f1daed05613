import ArgumentParser
import Foundation
import GGEPCore
import GGEPConfig
import GGEPPipeline
import GGEPPlot
import GGEPComponents
import GGEPKindGEP
import GGEPPriors

/// `ggep model-report MODEL`: what a trained prior is worth (docs/mathematics.md §11), the same numbers for every
/// model file (`ModelReport`): representation error of held-out MNIST test images, MMD² of
/// samples to the test set, distances of samples to their nearest training image, and a sample
/// grid.
struct ModelReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "model-report",
    abstract: "Measure a trained prior on MNIST: representation error, MMD² to the test set, nearest-training-image distances, samples.",
    discussion: """
      MODEL is a ggep-model/1 file (a VAE, whose decoder is the generator, or a dense \
      generator) or a legacy ggep-vae/1 VAE; its generator must output n = 784 pixels. The \
      numbers are printed, written with the figures (samples.png, projections.png) and \
      report.json into --out, and stored in the model file's /report group (through a copy \
      renamed over the file: weights and checksum unchanged). Which test images each number \
      uses, the projection's settings and the MMD² kernel are fixed and printed; the report \
      is the same, bit for bit, for any --threads.
      """)

  @Argument(help: "The model file.")
  var model: String

  @Option(help: "Directory with the four MNIST IDX files (gzipped or raw); `make data` fills data/mnist.")
  var data: String = MNIST.defaultDirectory

  @Option(help: "Where the figures and report.json go (default: <model-stem>-report/ beside the model).")
  var out: String?

  @Option(help: "Held-out test images projected for the representation error (the last ones of the test set).")
  var images: Int = ModelReport.Settings().images

  @Option(help: "N, the samples and the test images of the MMD².")
  var samples: Int = ModelReport.Settings().samples

  @Option(help: "Samples and test images whose nearest training image is measured.")
  var nearest: Int = ModelReport.Settings().nearest

  @Option(help: "Seed of the samples' latents and of the projection's restarts.")
  var seed: UInt64 = ModelReport.Settings().seed

  @Option(help: "Worker threads (default: the number of cores). Changes the speed, never the numbers.")
  var threads: Int = ProcessInfo.processInfo.activeProcessorCount

  @Flag(name: .customLong("no-write"), help: "Leave the model file untouched (by default the report is stored in it).")
  var noWrite = false

  var settings: ModelReport.Settings {
    ModelReport.Settings(images: images, samples: samples, nearest: nearest, seed: seed)
  }

  func validate() throws {
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    // MNIST's test set has 10 000 images (checked again against the files once read).
    if let problem = settings.problem(testImages: 10_000) { throw ValidationError(problem) }
  }

  func run() throws {
    let clock = ContinuousClock()
    let start = clock.now
    let (report, figures) = try ModelReport.compute(modelFile: model, data: data, settings: settings, threads: threads)
    let stem = ((model as NSString).lastPathComponent as NSString).deletingPathExtension
    let directory = out ?? (((model as NSString).deletingLastPathComponent as NSString).appendingPathComponent(stem + "-report"))
    let written = try figures.write(to: directory, name: stem) + [try report.writeJSON(to: directory)]
    print(report.text)
    print("")
    print("wrote \(written.joined(separator: ", "))")
    if noWrite {
      print("model file left untouched (--no-write)")
    } else {
      try report.write(into: model)
      print("stored the report in \(model) (/\(ModelReport.group); weights and checksum \(report.model.checksum.prefix(12))… unchanged)")
    }
    let elapsed = clock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    print("\(String(format: "%.1f", seconds)) s on \(threads) thread\(threads == 1 ? "" : "s")")
  }
}

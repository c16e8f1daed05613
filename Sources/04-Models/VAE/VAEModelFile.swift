import Foundation
import GGEPCore
import GGEPPrior

/// The VAE model file (HDF5, the one model format `ggep-model/1` with `model` = `vae`; files of
/// the earlier `ggep-vae/1` load too):
///
///     /encoder/w1 b1 w2 b2 w_mu b_mu w_logvar b_logvar    float32; weights in × out
///     /decoder/w1 b1 w2 b2 w3 b3                            (h_out = h_in · W + b)
///     /training/epoch, train_loss, test_loss, seconds       per-epoch history (if trained here)
///
///     root attributes:
///       format          "ggep-model/1"; model "vae"
///       architecture    JSON {"decoder_hidden":[500,500],"encoder_hidden":[500,500],"input":784,"latent":20}
///                       (+ "hidden_activation":"relu" when the hidden layers are not softplus)
///       activations     JSON {"decoder":["softplus","softplus","sigmoid"],"encoder":["softplus","softplus","identity"]}
///       weight_layout   how weights are oriented
///       checksum        SHA-256 hex of the weights (see `VAEModel`), checksum_order lists the tensors
///       epochs, seed, learning_rate, batch_size, beta1, beta2, adam_epsilon, gradient_shards,
///       layer_pieces (only for the layer-piece schedule),
///       blas_threads (always 1), training_threads (worker threads: seconds, not weights),
///       train_images, test_images, train_loss, test_loss, test_loss_estimator,
///       training_seconds, training_settings (JSON), ggep_version     (when the model was trained)
///
/// Written with `writeHDF5Atomically`, so a crash never leaves a half-written model behind.
extension VAEModel {
  public static let weightLayout = "in x out, row-major: a layer maps a row batch h to h W + b"

  public func save(to path: String) throws {
    let tensorList = architecture.tensors
    try writeHDF5Atomically(to: path) { file in
      let root = file.root
      _ = try root.createGroup("encoder")
      _ = try root.createGroup("decoder")
      for t in tensorList {
        try root.write(t.path, tensors[t.path]!, shape: t.shape)
      }
      try root.setAttribute("format", ModelFile.format)
      try root.setAttribute("model", "vae")
      try root.setAttribute("architecture", architecture.json)
      try root.setAttribute("activations", architecture.activationsJSON)
      try root.setAttribute("weight_layout", Self.weightLayout)
      try root.setAttribute("checksum", checksum)
      try root.setAttribute(
        "checksum_order",
        "sha256 over float32 little-endian row-major bytes of " + tensorList.map(\.path).joined(separator: ", "))
      try root.setAttribute("ggep_version", GGEPVersion.semantic)
      if let training {
        let s = training.settings
        try root.setAttribute("epochs", Int64(s.epochs))
        try root.setAttribute("seed", Int64(bitPattern: s.seed))
        try root.setAttribute("learning_rate", s.learningRate)
        try root.setAttribute("batch_size", Int64(s.batchSize))
        try root.setAttribute("beta1", s.beta1)
        try root.setAttribute("beta2", s.beta2)
        try root.setAttribute("adam_epsilon", s.adamEpsilon)
        try root.setAttribute("gradient_shards", Int64(s.gradientShards))
        if let pieces = s.layerPieces { try root.setAttribute("layer_pieces", Int64(pieces)) }
        try root.setAttribute("blas_threads", Int64(VAETrainer.blasThreads))
        try root.setAttribute("training_threads", Int64(training.threads))
        try root.setAttribute("train_images", Int64(training.trainImages))
        try root.setAttribute("test_images", Int64(training.testImages))
        try root.setAttribute("train_loss", training.finalTrainLoss)
        try root.setAttribute("test_loss", training.finalTestLoss)
        try root.setAttribute("test_loss_estimator", VAETrainingRecord.testLossEstimator)
        try root.setAttribute("training_seconds", training.totalSeconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try root.setAttribute("training_settings", String(decoding: try encoder.encode(s), as: UTF8.self))
        let history = try root.createGroup("training")
        try history.write("epoch", training.history.map { Int64($0.epoch) })
        try history.write("train_loss", training.history.map(\.trainLoss))
        try history.write("test_loss", training.history.map(\.testLoss))
        try history.write("seconds", training.history.map(\.seconds))
      }
    }
  }

  /// Reads a model file, checking its format, the shape of every dataset and the checksum.
  /// Errors name the file and the dataset or attribute at fault.
  public static func load(from path: String) throws -> VAEModel {
    let reader = try ModelFileReader(path)
    let (root, attributes) = (reader.root, reader.attributes)
    let fail = reader.fail

    guard attributes.contains("format") else {
      throw fail("/", "no 'format' attribute: not a ggep VAE model file")
    }
    let format = try root.stringAttribute("format")
    // The one model format (model = vae), or the VAE format it replaced.
    guard format == ModelFile.format || format == ModelFile.legacyVAEFormat else {
      throw fail("/", "format is '\(format)', expected '\(ModelFile.format)'")
    }
    if format == ModelFile.format {
      let model = attributes.contains("model") ? try root.stringAttribute("model") : "(none)"
      guard model == "vae" else { throw fail("/", "holds a '\(model)' model, not a VAE") }
    }
    let architectureText = try reader.required("architecture")
    let architecture: VAEArchitecture
    do {
      architecture = try VAEArchitecture.fromJSON(architectureText)
    } catch {
      throw fail("/", "attribute 'architecture' is not a valid architecture: \(architectureText)")
    }
    if let problem = architecture.problem { throw fail("/", "bad architecture \(architectureText): \(problem)") }

    var tensors: [String: [Float]] = [:]
    for t in architecture.tensors {
      tensors[t.path] = try reader.tensor(t.path, shape: t.shape, isWeight: t.isWeight)
    }
    try reader.checkChecksum(Self.checksum(architecture: architecture, tensors: tensors))

    var model = try VAEModel(architecture: architecture, tensors: tensors)
    model.training = readTrainingRecord(root: root, attributes: attributes)
    return model
  }

  /// The training record, if the file has one (a model without it still loads).
  private static func readTrainingRecord(root: HDF5Group, attributes: Set<String>) -> VAETrainingRecord? {
    guard attributes.contains("training_settings"), root.exists("training"),
      let text = try? root.stringAttribute("training_settings"),
      let settings = try? JSONDecoder().decode(VAETrainingSettings.self, from: Data(text.utf8)),
      let epochs = try? root.readInt64s("training/epoch").values,
      let train = try? root.readDoubles("training/train_loss").values,
      let test = try? root.readDoubles("training/test_loss").values,
      let seconds = try? root.readDoubles("training/seconds").values,
      Set([epochs.count, train.count, test.count, seconds.count]).count == 1
    else { return nil }
    let history = epochs.indices.map {
      VAEEpochStats(epoch: Int(epochs[$0]), trainLoss: train[$0], testLoss: test[$0], seconds: seconds[$0])
    }
    return VAETrainingRecord(
      settings: settings,
      trainImages: Int((try? root.int64Attribute("train_images")) ?? 0),
      testImages: Int((try? root.int64Attribute("test_images")) ?? 0),
      history: history,
      threads: Int((try? root.int64Attribute("training_threads")) ?? 1))
  }
}

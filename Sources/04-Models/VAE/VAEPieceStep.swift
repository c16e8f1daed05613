import Dispatch
import Synchronization
import GGEPCore
import GGEPPrior

/// One training step of a `VAENetwork` on a whole mini-batch, its layers cut into fixed pieces
/// (`DenseStack.pieceRanges`) that threads share: the `layer_pieces` schedule of
/// `VAETrainingSettings`.
///
/// Per step (B rows, the same loss and gradient as `VAENetwork.evaluate` on one shard, docs/mathematics.md §3):
///
///     forward   one phase per layer: pieces of its output columns, h_l[:, c] = act(h_{l−1} W_l[:, c] + b_l[c]);
///               then z = μ + σ ⊙ ε and the KL term (serial, B × k); the logits' pieces also
///               take Σ BCE(x, ℓ) and δ = (σ(ℓ) − x)/B on their columns
///     backward  phase p: the input gradient δ_{p+1} = (δ_p W_pᵀ) ⊙ act' of stage p, cut by its
///               columns, next to the weight gradient ∂W = h_{p−1}ᵀ δ_{p−1} of stage p − 1, cut
///               by weight rows, each piece followed at once by Adam on exactly those
///               parameters (while its gradient is still in cache)
///
/// where the stages run from the logits down: decoder layers, the heads (after ∂/∂z is expanded
/// into [∂/∂μ | ∂/∂log σ²]), encoder layers. A stage's parameters are updated one phase after its
/// input gradient read them, so no piece reads a weight another piece of its phase writes; each
/// piece writes only its own columns, weight rows and parameters. Every GEMM keeps all B rows.
///
/// Which thread runs a piece never enters the arithmetic: pieces are fixed by the widths and the
/// piece count, loss partials are added in piece order, so a step gives the same bits for any
/// thread count (for one BLAS thread per worker, `VAETrainer.blasThreads`).
final class VAEPieceStep {
  private typealias Task = () -> Void
  private struct Phase {
    var tasks: [Task] = []
    /// Work that must see the whole phase done (the reparameterisation, the head expansion).
    var after: (() -> Void)?
  }

  let rows: Int
  let pieces: Int
  private let network: VAENetwork
  private var phases: [Phase] = []
  private let arena: AlignedFloats
  /// The gradient as the Adam kernel takes it: one shard.
  private let gradientList: UnsafeMutablePointer<UnsafePointer<Float>?>
  /// Σ BCE of each logits piece, written by that piece (added in piece order).
  private let reconstructionParts: UnsafeMutablePointer<Double>
  private let logitPieces: Int
  private var kl: Double = 0
  /// This step's Adam constants, set before the backward phases start.
  private var constants = Adam.Constants(learningRate: 0, beta1: 0, beta2: 0, epsilon: 0, c1: 0, c2: 0)
  private var optimizer: Adam?
  private let counter = TaskCounter()

  /// A step over `rows` rows (≤ the network's capacity) of workspace 0, with `pieces` ≥ 1.
  init(network: VAENetwork, rows r: Int, pieces: Int) {
    precondition(r >= 1 && r <= network.capacity && pieces >= 1)
    self.network = network
    self.rows = r
    self.pieces = pieces
    let a = network.architecture
    // δ of every hidden layer (decoder, then encoder), each B × width.
    arena = AlignedFloats(a.decoderHidden.map { r * $0 } + a.encoderHidden.map { r * $0 })
    let deltaDecoder = Array(arena.buffers[0..<a.decoderHidden.count])
    let deltaEncoder = Array(arena.buffers[a.decoderHidden.count...])
    gradientList = .allocate(capacity: 1)
    gradientList.initialize(to: UnsafePointer(network.workspaces[0].gradient))
    logitPieces = DenseStack.pieceRanges(a.input, pieces: pieces).count
    reconstructionParts = .allocate(capacity: logitPieces)
    reconstructionParts.initialize(repeating: 0, count: logitPieces)
    buildForward()
    buildBackward(deltaDecoder: deltaDecoder, deltaEncoder: deltaEncoder)
  }

  deinit {
    gradientList.deallocate()
    reconstructionParts.deallocate()
  }

  // MARK: - Running

  /// One step on the batch in workspace 0's `x` and `epsilon` (its first `rows` rows): forward,
  /// loss, backward and the Adam update of every parameter. Returns the summed loss terms.
  func run(adam: Adam, threads: Int) -> (reconstruction: Double, kl: Double) {
    optimizer = adam
    let backwardStart = network.architecture.encoderHidden.count + 1 + network.architecture.decoderHidden.count + 1
    for (index, phase) in phases.enumerated() {
      if index == backwardStart { constants = adam.nextStep() }
      run(phase.tasks, threads: threads)
      phase.after?()
    }
    var reconstruction: Double = 0
    for i in 0..<logitPieces { reconstruction += reconstructionParts[i] }
    return (reconstruction, kl)
  }

  /// The tasks of one phase on up to `threads` workers, each taking the next task not yet taken.
  private func run(_ tasks: [Task], threads: Int) {
    let workers = min(threads, tasks.count)
    if workers <= 1 {
      for task in tasks { task() }
      return
    }
    // One counter for every phase of every step (no allocation per phase): reset, then shared.
    let next = counter
    next.value.store(0, ordering: .relaxed)
    // The tasks write disjoint memory (see the type's comment), so handing them to workers is safe.
    let shared = UnsafeSendable(tasks)
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      let tasks = shared.value
      while true {
        let i = next.value.wrappingAdd(1, ordering: .relaxed).oldValue
        guard i < tasks.count else { return }
        tasks[i]()
      }
    }
  }

  /// Hands out task indices to the workers of one phase.
  private final class TaskCounter: Sendable {
    let value = Atomic<Int>(0)
  }

  // MARK: - The phases

  private func buildForward() {
    let a = network.architecture
    let w = network.workspaces[0]
    let r = rows
    let p = UnsafePointer(network.parameters)
    let (encoder, heads, decoder) = (network.encoder, network.headStack, network.decoder)
    for l in encoder.layers.indices {
      let input = l == 0 ? UnsafePointer(w.x) : UnsafePointer(w.encoderOutputs[l - 1])
      let (output, derivative) = (w.encoderOutputs[l], w.encoderDerivatives[l])
      phases.append(Phase(tasks: DenseStack.pieceRanges(encoder.layers[l].fanOut, pieces: pieces).map { c in
        { encoder.forwardPiece(l, parameters: p, input: input, rows: r, columns: c, output: output, derivative: derivative) }
      }))
    }
    let top = UnsafePointer(w.encoderOutputs[encoder.layers.count - 1])
    let k = a.latent
    phases.append(Phase(tasks: DenseStack.pieceRanges(2 * k, pieces: pieces).map { c in
      { heads.forwardPiece(0, parameters: p, input: top, rows: r, columns: c, output: w.headOutputs, derivative: nil) }
    }, after: { [unowned self] in self.kl = self.network.reparameterise(w, rows: r) }))
    let last = decoder.layers.count - 1
    for l in decoder.layers.indices {
      let input = l == 0 ? UnsafePointer(w.z) : UnsafePointer(w.decoderOutputs[l - 1])
      let output = w.decoderOutputs[l]
      let derivative = l < last ? w.decoderDerivatives[l] : nil
      let ranges = DenseStack.pieceRanges(decoder.layers[l].fanOut, pieces: pieces)
      phases.append(Phase(tasks: ranges.enumerated().map { (i, c) in
        { [unowned self] in
          decoder.forwardPiece(l, parameters: p, input: input, rows: r, columns: c, output: output, derivative: derivative)
          if l == last { self.crossEntropy(piece: i, columns: c) }
        }
      }))
    }
  }

  /// Σ BCE(x, ℓ) over the rows on logit columns `c`, and δ = (σ(ℓ) − x)/B there.
  private func crossEntropy(piece: Int, columns c: Range<Int>) {
    let w = network.workspaces[0]
    let n = network.architecture.input
    let logits = w.decoderOutputs[w.decoderOutputs.count - 1]
    let scale = 1 / Float(rows)
    var sum: Double = 0
    for row in 0..<rows {
      let offset = row * n + c.lowerBound
      sum += VectorKernels.bernoulliCrossEntropy(
        logits: logits + offset, targets: w.x + offset, gradient: w.logitGradient + offset, scale: scale, c.count)
    }
    reconstructionParts[piece] = sum
  }

  /// One layer of the backward pass: where its input, δ and input gradient live.
  private struct Stage {
    var stack: DenseStack
    var layer: Int
    var input: UnsafePointer<Float>
    var delta: UnsafePointer<Float>
    /// Where δ · Wᵀ goes (nil for the first encoder layer), and the act' it is multiplied by.
    var target: UnsafeMutablePointer<Float>?
    var derivative: UnsafePointer<Float>?
    /// Runs once the phase that computes this stage's input gradient is done.
    var after: (() -> Void)?
  }

  private func buildBackward(deltaDecoder: [UnsafeMutablePointer<Float>], deltaEncoder: [UnsafeMutablePointer<Float>]) {
    let w = network.workspaces[0]
    let (encoder, heads, decoder) = (network.encoder, network.headStack, network.decoder)
    let top = decoder.layers.count - 1
    var stages: [Stage] = []
    for l in stride(from: top, through: 0, by: -1) {
      stages.append(Stage(
        stack: decoder, layer: l, input: l == 0 ? UnsafePointer(w.z) : UnsafePointer(w.decoderOutputs[l - 1]),
        delta: l == top ? UnsafePointer(w.logitGradient) : UnsafePointer(deltaDecoder[l]),
        target: l == 0 ? w.headGradient : deltaDecoder[l - 1],
        derivative: l == 0 ? nil : UnsafePointer(w.decoderDerivatives[l - 1]),
        after: l == 0 ? { [unowned self] in self.network.expandHeadGradient(w, rows: self.rows, scale: 1 / Float(self.rows)) } : nil))
    }
    let encoderTop = encoder.layers.count - 1
    stages.append(Stage(
      stack: heads, layer: 0, input: UnsafePointer(w.encoderOutputs[encoderTop]), delta: UnsafePointer(w.headGradient),
      target: deltaEncoder[encoderTop], derivative: UnsafePointer(w.encoderDerivatives[encoderTop])))
    for l in stride(from: encoderTop, through: 0, by: -1) {
      stages.append(Stage(
        stack: encoder, layer: l, input: l == 0 ? UnsafePointer(w.x) : UnsafePointer(w.encoderOutputs[l - 1]),
        delta: UnsafePointer(deltaEncoder[l]), target: l == 0 ? nil : deltaEncoder[l - 1],
        derivative: l == 0 ? nil : UnsafePointer(w.encoderDerivatives[l - 1])))
    }
    for (s, stage) in stages.enumerated() {
      var phase = Phase(after: stage.after)
      var tasks: [(cost: Int, task: Task)] = []
      if let target = stage.target { tasks += inputGradientTasks(stage, target) }
      if s > 0 { tasks += updateTasks(stages[s - 1]) }
      if stage.target == nil { tasks += updateTasks(stage) }
      // Largest first, so the worker that takes the last task is never left with a big one
      // (the order is fixed, so it changes when a piece runs, never what it computes).
      phase.tasks = tasks.enumerated().sorted { ($0.element.cost, -$0.offset) > ($1.element.cost, -$1.offset) }.map(\.element.task)
      phases.append(phase)
    }
  }

  /// The input gradient of `stage`, piece by piece of its columns, with each piece's flops.
  private func inputGradientTasks(_ stage: Stage, _ target: UnsafeMutablePointer<Float>) -> [(cost: Int, task: Task)] {
    let (stack, l, r, delta, derivative) = (stage.stack, stage.layer, rows, stage.delta, stage.derivative)
    let p = UnsafePointer(network.parameters)
    return DenseStack.pieceRanges(stack.layers[l].fanIn, pieces: pieces).map { c in
      (r * c.count * stack.layers[l].fanOut, { stack.inputGradientPiece(l, parameters: p, delta: delta, rows: r, columns: c, into: target, times: derivative) })
    }
  }

  /// The weight gradient of `stage`, piece by piece of weight rows, and its bias gradient, each
  /// followed by Adam on the parameters it covers; with each piece's flops.
  private func updateTasks(_ stage: Stage) -> [(cost: Int, task: Task)] {
    let (stack, l, r, input, delta) = (stage.stack, stage.layer, rows, stage.input, stage.delta)
    let w = network.workspaces[0]
    let ones = UnsafePointer(network.ones)
    var tasks: [(cost: Int, task: Task)] = DenseStack.pieceRanges(stack.layers[l].fanIn, pieces: pieces).map { rowsOfW in
      (rowsOfW.count * stack.layers[l].fanOut * r, { [unowned self] in
        stack.weightGradientPiece(l, input: input, delta: delta, rows: r, weightRows: rowsOfW, gradient: w.gradient, ontoZeros: true)
        self.update(stack.weightRange(l, rowsOfW), clearing: true)
      })
    }
    if stack.layers[l].hasBias {
      tasks.append((r * stack.layers[l].fanOut, { [unowned self] in
        stack.biasGradient(l, delta: delta, rows: r, ones: ones, gradient: w.gradient)
        self.update(stack.biasRange(l))
      }))
    }
    return tasks
  }

  /// Adam on parameters `range`; with `clearing`, their gradient is then zeroed (while it is still
  /// in cache) for the next step's β = 1 weight-gradient GEMM.
  private func update(_ range: Range<Int>, clearing: Bool = false) {
    optimizer!.update(network.parameters, gradients: gradientList, shards: 1, range: range, constants)
    if clearing { (network.workspaces[0].gradient + range.lowerBound).update(repeating: 0, count: range.count) }
  }
}

import Foundation

/// A value handed to `DispatchQueue.concurrentPerform` workers. Only for raw buffers whose
/// concurrent use is safe by construction: each worker writes a disjoint part (its own workspace,
/// its own range of the parameters) and reads only what no worker writes during the call.
package struct UnsafeSendable<Value>: @unchecked Sendable {
  package let value: Value
  package init(_ value: Value) { self.value = value }
}

/// Float buffers carved from one allocation, each starting on a 64-byte boundary and
/// zero-initialised; freed together when the owner goes.
package final class AlignedFloats {
  package let buffers: [UnsafeMutablePointer<Float>]
  private let base: UnsafeMutableRawPointer

  package init(_ counts: [Int]) {
    let padded = counts.map { (max($0, 1) + 15) / 16 * 16 }  // 16 floats = 64 bytes
    let total = padded.reduce(0, +)
    base = UnsafeMutableRawPointer.allocate(byteCount: total * 4, alignment: 64)
    let floats = base.initializeMemory(as: Float.self, repeating: 0, count: total)
    var offset = 0
    var buffers: [UnsafeMutablePointer<Float>] = []
    for count in padded {
      buffers.append(floats + offset)
      offset += count
    }
    self.buffers = buffers
  }

  deinit { base.deallocate() }
}

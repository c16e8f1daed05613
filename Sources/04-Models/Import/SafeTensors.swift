import Foundation
import GGEPCore
import GGEPPrior

/// Why a safetensors file cannot be read: the file, the tensor when one is at fault, and what
/// is wrong, in the user's terms.
public struct SafeTensorsError: UserFacingError, Sendable {
  public let file: String
  public let tensor: String?
  public let message: String
  public init(file: String, tensor: String? = nil, _ message: String) {
    self.file = file
    self.tensor = tensor
    self.message = message
  }
  public var description: String {
    tensor.map { "\(file): tensor \"\($0)\": \(message)" } ?? "\(file): \(message)"
  }
}

/// A safetensors file (the format PyTorch's `safetensors.torch.save_file` writes), read whole
/// and checked before any tensor is used:
///
///     u64 little-endian N | N bytes of JSON header | data section
///
/// The header maps each tensor's name to `{"dtype", "shape", "data_offsets": [begin, end]}`
/// (offsets into the data section, C order, little-endian), plus an optional `__metadata__`
/// map of strings. The tensors must tile the data section exactly: sorted by offset, each
/// begins where the previous ends, the first at 0 and the last at the section's end; each
/// spans (∏ shape)·(size of dtype) bytes. Dtypes F64, F32, F16, BF16 are read as Float; I64
/// (BatchNorm's `num_batches_tracked`) is accepted and never read as weights.
public struct SafeTensorsFile: Sendable {
  public enum DType: String, Sendable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64"
    var size: Int {
      switch self {
      case .f64, .i64: return 8
      case .f32: return 4
      case .f16, .bf16: return 2
      }
    }
  }

  public struct Tensor: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte range in the file.
    let range: Range<Int>
    /// ∏ shape (checked against the byte range when the file was read, so it cannot overflow).
    var elementCount: Int { (range.upperBound - range.lowerBound) / dtype.size }
  }

  public let path: String
  public let tensors: [String: Tensor]
  public let metadata: [String: String]
  let bytes: [UInt8]

  public init(path: String) throws(SafeTensorsError) {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw SafeTensorsError(file: path, "cannot read the file: \((error as NSError).localizedDescription)")
    }
    try self.init(bytes: [UInt8](data), path: path)
  }

  public init(bytes: [UInt8], path: String) throws(SafeTensorsError) {
    self.path = path
    self.bytes = bytes
    guard bytes.count >= 8 else {
      throw SafeTensorsError(file: path, "truncated: \(bytes.count) byte(s), but a safetensors file starts with an 8-byte header length")
    }
    var length: UInt64 = 0
    for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
    guard length <= UInt64(bytes.count - 8) else {
      throw SafeTensorsError(file: path, "the header length \(length) is beyond the file (\(bytes.count) bytes): a truncated or not a safetensors file")
    }
    let headerEnd = 8 + Int(length)
    let json: Any
    do {
      json = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]))
    } catch {
      throw SafeTensorsError(file: path, "the header is not valid JSON (\((error as NSError).localizedDescription))")
    }
    guard let header = json as? [String: Any] else {
      throw SafeTensorsError(file: path, "the header is JSON but not an object of tensors")
    }
    let dataLength = bytes.count - headerEnd
    var tensors: [String: Tensor] = [:]
    var metadata: [String: String] = [:]
    // In name order, so that the same damaged file always names the same tensor.
    for (name, value) in header.sorted(by: { $0.key < $1.key }) {
      if name == "__metadata__" {
        metadata = (value as? [String: Any])?.compactMapValues { $0 as? String } ?? [:]
        continue
      }
      guard let entry = value as? [String: Any], let dtypeName = entry["dtype"] as? String, let shapeValues = entry["shape"] as? [Any],
        let offsetValues = entry["data_offsets"] as? [Any], offsetValues.count == 2
      else {
        throw SafeTensorsError(file: path, tensor: name, "its header entry needs dtype, shape and data_offsets [begin, end]")
      }
      guard let dtype = DType(rawValue: dtypeName) else {
        throw SafeTensorsError(file: path, tensor: name, "unsupported dtype \(dtypeName) (supported: F32, F16, BF16, F64, and I64 for counters)")
      }
      let shape = shapeValues.compactMap { ($0 as? NSNumber)?.intValue }
      let offsets = offsetValues.compactMap { ($0 as? NSNumber)?.intValue }
      guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }), offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
        throw SafeTensorsError(file: path, tensor: name, "shape \(shapeValues) or data_offsets \(offsetValues) are not non-negative integers with begin ≤ end")
      }
      guard let needed = CheckedSize.product(shape + [dtype.size]) else {
        throw SafeTensorsError(
          file: path, tensor: name, "shape \(shape) of \(dtype.rawValue) is too large: its byte count overflows a 64-bit integer")
      }
      guard offsets[1] - offsets[0] == needed else {
        throw SafeTensorsError(
          file: path, tensor: name, "shape \(shape) of \(dtype.rawValue) needs \(needed) bytes, but its data_offsets \(offsets) span \(offsets[1] - offsets[0])")
      }
      guard offsets[1] <= dataLength else {
        throw SafeTensorsError(
          file: path, tensor: name, "truncated: its data ends at byte \(offsets[1]) of the data section, which has only \(dataLength) bytes")
      }
      tensors[name] = Tensor(name: name, dtype: dtype, shape: shape, range: (headerEnd + offsets[0])..<(headerEnd + offsets[1]))
    }
    // The tensors tile the data section: no overlap, no gap, nothing after the last.
    var end = headerEnd
    var previous: String?
    for tensor in tensors.values.sorted(by: { ($0.range.lowerBound, $0.name) < ($1.range.lowerBound, $1.name) }) {
      if tensor.range.lowerBound < end {
        throw SafeTensorsError(file: path, tensor: tensor.name, "its data_offsets overlap tensor \"\(previous ?? "?")\"")
      }
      if tensor.range.lowerBound > end {
        throw SafeTensorsError(
          file: path, tensor: tensor.name,
          "its data begins at byte \(tensor.range.lowerBound - headerEnd), but \(previous.map { "tensor \"\($0)\"" } ?? "the data section") ends at \(end - headerEnd): the offsets are not contiguous")
      }
      end = tensor.range.upperBound
      previous = tensor.name
    }
    if end != bytes.count {
      throw SafeTensorsError(file: path, "\(bytes.count - end) byte(s) after the last tensor's data: the offsets do not cover the data section")
    }
    self.tensors = tensors
    self.metadata = metadata
  }

  /// The tensor's values as Float (F64 rounded; F16 and BF16 widened), C order.
  public func floats(_ name: String) throws(SafeTensorsError) -> [Float] {
    guard let tensor = tensors[name] else { throw SafeTensorsError(file: path, tensor: name, "not in the file") }
    let count = tensor.elementCount
    var out = [Float](repeating: 0, count: count)
    bytes.withUnsafeBytes { raw in
      let base = raw.baseAddress! + tensor.range.lowerBound
      switch tensor.dtype {
      case .f32:
        for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
      case .f64:
        for i in 0..<count { out[i] = Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
      case .f16:
        for i in 0..<count { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
      case .bf16:
        for i in 0..<count {
          out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
        }
      case .i64:
        for i in 0..<count { out[i] = Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
      }
    }
    return out
  }

  /// The tensor's values as Double (for reference data; F32/F16/BF16 widened exactly).
  public func doubles(_ name: String) throws(SafeTensorsError) -> [Double] {
    guard let tensor = tensors[name] else { throw SafeTensorsError(file: path, tensor: name, "not in the file") }
    if tensor.dtype == .f64 {
      let count = tensor.elementCount
      return bytes.withUnsafeBytes { raw in
        let base = raw.baseAddress! + tensor.range.lowerBound
        return (0..<count).map { Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
      }
    }
    return try floats(name).map(Double.init)
  }
}

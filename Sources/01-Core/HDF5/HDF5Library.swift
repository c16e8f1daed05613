import Foundation
import _HDF5

/// The one lock every HDF5 call in the process goes through.
///
/// Why a process-wide lock although Debian's "serial" libhdf5 1.10.8 happens to be built
/// thread-safe (`H5is_library_threadsafe` says yes): other builds (Homebrew, conda, a
/// self-built library) often are not, and a non-thread-safe HDF5 corrupts its global state
/// when two threads call into it — the scheduler writes result files from several Dispatch
/// threads. The thread-safe build serializes API calls internally anyway, so this lock costs
/// no parallelism that HDF5 would otherwise give. It also makes "call, then read the error
/// stack" atomic, and guards the open/closed state of `HDF5File` and `HDF5Group`.
///
/// Recursive because an `HDF5Group` can be released (its `deinit` takes the lock) while code
/// holding the lock drops its last reference to it.
final class HDF5Library: @unchecked Sendable {
  // @unchecked Sendable: the only mutable state, `temporaryFileCounter`, is read and written
  // with `lock` held; `NSRecursiveLock` itself is safe to use from any thread.
  private let lock = NSRecursiveLock()
  private var temporaryFileCounter = 0

  static let shared = HDF5Library()

  /// HDF5's exit handler is switched off: it closes every file HDF5 still counts as open, and
  /// a file whose close failed (a full disk: "file write failed: No space left on device")
  /// made it dereference a freed structure and crash the process after the error had been
  /// reported (HDF5 1.10.8). Every file is closed explicitly by its owner, and a
  /// failed atomic write removes its temporary file, so nothing is left for the handler to do.
  private init() {
    _ = H5dont_atexit()
  }

  /// Runs `body` with the lock held.
  ///
  /// Error printing is switched off on every entry, not once: in a thread-safe HDF5 build the
  /// error-stack settings are per thread, so silencing it on the first thread would still let
  /// HDF5 print its stack to stderr from every other Dispatch thread (checked on 1.10.8).
  func run<T>(_ body: () throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    _ = ggep_h5_silence_errors()
    return try body()
  }

  /// A number unique in this process, so two threads writing the same result file atomically
  /// build it in different temporary files.
  func nextTemporaryFileNumber() -> Int {
    run {
      temporaryFileCounter += 1
      return temporaryFileCounter
    }
  }
}

/// Shorthand for `HDF5Library.shared.run`.
@inline(__always)
func withHDF5<T>(_ body: () throws -> T) rethrows -> T {
  try HDF5Library.shared.run(body)
}

/// Where an HDF5 operation happens, so that every failure names the file and the object.
///
/// The checking helpers must be applied directly to the C call's result: HDF5 clears its
/// error stack at the start of each API call, so the stack still describes this failure only
/// until the next call (and the caller holds the lock, so no other thread can call in between).
struct HDF5Site {
  let file: String
  let object: String

  /// An error for a failed HDF5 call, with HDF5's innermost reason appended when it has one
  /// (e.g. "object 'x' doesn't exist", "file signature not found").
  func failure(_ message: String) -> HDF5Error {
    if let reason = HDF5Site.innermostReason() {
      return HDF5Error(path: file, object: object, message: "\(message) (HDF5: \(reason))")
    }
    return HDF5Error(path: file, object: object, message: message)
  }

  /// An error that our own checks found before calling HDF5.
  func error(_ message: String) -> HDF5Error {
    HDF5Error(path: file, object: object, message: message)
  }

  /// Checks a returned identifier (`hid_t`); negative means failure.
  @discardableResult
  func id(_ value: hid_t, _ message: @autoclosure () -> String) throws -> hid_t {
    if value < 0 { throw failure(message()) }
    return value
  }

  /// Checks a returned status (`herr_t`) or count; negative means failure.
  func status(_ value: Int32, _ message: @autoclosure () -> String) throws {
    if value < 0 { throw failure(message()) }
  }

  /// Checks a tri-state answer (`htri_t`): negative is failure, zero false, positive true.
  func truth(_ value: htri_t, _ message: @autoclosure () -> String) throws -> Bool {
    if value < 0 { throw failure(message()) }
    return value > 0
  }

  /// The description of the innermost frame of the calling thread's HDF5 error stack: the
  /// place where HDF5 first noticed the problem, which is the most specific.
  private static func innermostReason() -> String? {
    var reason: String?
    _ = withUnsafeMutablePointer(to: &reason) { pointer in
      H5Ewalk2(ggep_h5e_default(), H5E_WALK_UPWARD, { index, frame, data in
        guard index == 0, let frame, let data, let desc = frame.pointee.desc else { return 0 }
        data.assumingMemoryBound(to: String?.self).pointee = String(cString: desc)
        return 1  // stop: only the innermost frame is wanted
      }, pointer)
    }
    return reason.map(tidy).flatMap { $0.isEmpty ? nil : $0 }
  }

  /// File-level reasons carry a dump of internal state ("time = …, name = …, errno = 2,
  /// error message = 'No such file or directory', flags = …"); keep the reason and the
  /// operating system's message, drop the rest.
  private static func tidy(_ reason: String) -> String {
    let flat = reason.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
    let markers = [": time = ", ": name = ", ", name = "]
    guard let dump = markers.lazy.compactMap({ flat.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound })
    else { return flat }
    var result = String(flat[..<dump.lowerBound])
    if let start = flat.range(of: "error message = '"),
       let end = flat[start.upperBound...].firstIndex(of: "'") {
      result += ": " + flat[start.upperBound..<end]
    }
    return result
  }
}

/// The element types that datasets and attributes store as numbers.
///
/// The file type is the native type itself: HDF5 records it as a concrete little-endian IEEE
/// float or two's-complement integer, which h5py maps to float64/float32/int64/uint8.
protocol HDF5Numeric: BitwiseCopyable {
  /// The HDF5 memory type; call with the HDF5 lock held (the macros behind it open the library).
  static var hdf5Type: hid_t { get }
  /// Integers are not read from floating-point storage: HDF5 would truncate silently.
  static var isInteger: Bool { get }
}

extension Double: HDF5Numeric {
  static var hdf5Type: hid_t { ggep_h5t_native_double() }
  static var isInteger: Bool { false }
}

extension Float: HDF5Numeric {
  static var hdf5Type: hid_t { ggep_h5t_native_float() }
  static var isInteger: Bool { false }
}

extension Int64: HDF5Numeric {
  static var hdf5Type: hid_t { ggep_h5t_native_int64() }
  static var isInteger: Bool { true }
}

extension UInt8: HDF5Numeric {
  static var hdf5Type: hid_t { ggep_h5t_native_uint8() }
  static var isInteger: Bool { true }
}

/// Helpers shared by datasets and attributes. All expect the HDF5 lock to be held.
enum HDF5Support {
  /// Checks that `shape` describes exactly `count` values, so a caller's mistake is reported
  /// here instead of HDF5 reading past the end of the Swift array.
  static func validate(shape: [Int], count: Int, site: HDF5Site) throws -> [Int] {
    var product = 1
    for extent in shape {
      guard extent >= 0 else { throw site.error("shape \(shape) has a negative extent") }
      let (next, overflow) = product.multipliedReportingOverflow(by: extent)
      guard !overflow else { throw site.error("shape \(shape) is too large") }
      product = next
    }
    guard product == count else {
      throw site.error("shape \(shape) holds \(product) values but \(count) were given")
    }
    return shape
  }

  /// A dataspace for `shape`; the empty shape means a scalar (one value, no dimensions).
  static func makeDataspace(_ shape: [Int], site: HDF5Site) throws -> hid_t {
    if shape.isEmpty {
      return try site.id(H5Screate(H5S_SCALAR), "could not create a scalar dataspace")
    }
    let dims = shape.map { hsize_t($0) }
    return try site.id(
      H5Screate_simple(Int32(dims.count), dims, nil), "could not create a dataspace of shape \(shape)")
  }

  /// The shape of a dataspace. A null dataspace (h5py's `Empty`) reads as `[0]`, so that the
  /// product of the shape is always the number of values.
  static func shape(ofSpace space: hid_t, site: HDF5Site) throws -> [Int] {
    switch H5Sget_simple_extent_type(space) {
    case H5S_SCALAR: return []
    case H5S_NULL: return [0]
    case H5S_SIMPLE:
      let rank = H5Sget_simple_extent_ndims(space)
      try site.status(rank, "could not read the rank")
      var dims = [hsize_t](repeating: 0, count: Int(rank))
      try site.status(H5Sget_simple_extent_dims(space, &dims, nil), "could not read the shape")
      // A file's dimensions are up to 2⁶⁴ − 1 each, and HDF5 stores nothing for a dataset never
      // written: a hostile file can declare any extent. Refuse what does not fit in Int.
      let shape = dims.map { Int(exactly: $0) ?? -1 }
      guard shape.allSatisfy({ $0 >= 0 }), CheckedSize.product(shape) != nil else {
        throw site.error("its shape \(dims) is too large to be a real dataset (the element count overflows a 64-bit integer)")
      }
      return shape
    default:
      throw site.failure("could not read the dataspace")
    }
  }

  /// Refuses to read a dataset larger than this machine's memory: a file may declare an extent
  /// it never stored (HDF5 fills unwritten data on read), and allocating it would end the
  /// process instead of naming the dataset.
  static func checkFitsInMemory(count: Int, elementSize: Int, shape: [Int], site: HDF5Site) throws {
    let bytes = CheckedSize.product([count, elementSize])
    let memory = Int(clamping: ProcessInfo.processInfo.physicalMemory)
    guard let bytes, bytes <= memory else {
      throw site.error("its shape \(shape) needs \(bytes.map { "\($0 >> 30) GiB" } ?? "more than 2⁶³ bytes") to read, more than this machine's memory (\(memory >> 30) GiB)")
    }
  }

  /// A variable-length UTF-8 string type: what h5py writes for `str`, and reads back as
  /// `bytes` (or `str` through `.asstr()`) for datasets and as `str` for attributes.
  static func makeUTF8StringType(site: HDF5Site) throws -> hid_t {
    let type = try site.id(H5Tcopy(ggep_h5t_c_s1()), "could not create a string type")
    do {
      try site.status(H5Tset_size(type, ggep_h5t_variable()), "could not make the string type variable-length")
      try site.status(H5Tset_cset(type, H5T_CSET_UTF8), "could not make the string type UTF-8")
    } catch {
      H5Tclose(type)
      throw error
    }
    return type
  }

  /// Copies strings into C strings that stay valid while HDF5 reads them, runs `body` with
  /// the array of pointers, and frees them.
  static func withCStrings<T>(
    _ strings: [String], site: HDF5Site, _ body: (UnsafeRawPointer?) throws -> T
  ) throws -> T {
    // A C string ends at its first NUL: such a string would come back cut short.
    if let bad = strings.firstIndex(where: { $0.utf8.contains(0) }) {
      throw site.error("string \(bad) contains a NUL character, which HDF5 strings cannot hold")
    }
    let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return try pointers.withUnsafeBufferPointer { try body(UnsafeRawPointer($0.baseAddress)) }
  }

  /// Reads `count` strings, whether stored variable-length (h5py `str`, ggep) or
  /// fixed-length (numpy `S` arrays and `np.bytes_` attributes through h5py).
  ///
  /// `read` performs the H5Dread / H5Aread with the memory type it is given into the buffer.
  static func readStrings(
    fileType: hid_t, space: hid_t, count: Int, what: String, site: HDF5Site,
    read: (hid_t, UnsafeMutableRawPointer) -> herr_t
  ) throws -> [String] {
    guard H5Tget_class(fileType) == H5T_STRING else {
      throw site.error("\(what) does not hold strings")
    }
    if count == 0 { return [] }
    if try site.truth(H5Tis_variable_str(fileType), "could not inspect the string type") {
      // Keep the stored character set: HDF5 does not convert between ASCII and UTF-8.
      let memType = try site.id(H5Tcopy(ggep_h5t_c_s1()), "could not create a string type")
      defer { H5Tclose(memType) }
      try site.status(H5Tset_size(memType, ggep_h5t_variable()), "could not create a string type")
      try site.status(H5Tset_cset(memType, H5Tget_cset(fileType)), "could not create a string type")
      var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
      return try pointers.withUnsafeMutableBufferPointer { buffer in
        try site.status(read(memType, buffer.baseAddress!), "could not read \(what)")
        // HDF5 allocated each string; give them back even if decoding below went wrong.
        defer { H5Dvlen_reclaim(memType, space, ggep_h5p_default(), buffer.baseAddress!) }
        return buffer.map { $0.map { String(cString: $0) } ?? "" }
      }
    }
    let size = H5Tget_size(fileType)
    guard size > 0 else { throw site.failure("could not read the string length of \(what)") }
    let memType = try site.id(H5Tcopy(fileType), "could not create a string type")
    defer { H5Tclose(memType) }
    let spacePadded = H5Tget_strpad(fileType) == H5T_STR_SPACEPAD
    var bytes = [UInt8](repeating: 0, count: size * count)
    try bytes.withUnsafeMutableBytes { buffer in
      try site.status(read(memType, buffer.baseAddress!), "could not read \(what)")
    }
    return (0..<count).map { index in
      var element = bytes[(index * size)..<((index + 1) * size)]
      if let end = element.firstIndex(of: 0) { element = element[..<end] }
      if spacePadded {
        while element.last == UInt8(ascii: " ") { element = element.dropLast() }
      }
      return String(decoding: element, as: UTF8.self)
    }
  }

  /// Checks that stored data can become `T` without silent damage, so callers get an error
  /// rather than truncated or meaningless numbers.
  static func checkConvertible<T: HDF5Numeric>(
    _: T.Type, fileType: hid_t, what: String, site: HDF5Site
  ) throws {
    let typeClass = H5Tget_class(fileType)
    switch typeClass {
    case H5T_INTEGER:
      return
    case H5T_FLOAT where !T.isInteger:
      return
    case H5T_FLOAT:
      throw site.error("\(what) holds floating-point numbers; read it as Double or Float")
    case H5T_STRING:
      throw site.error("\(what) holds strings, not numbers")
    default:
      throw site.error("\(what) holds neither integers nor floating-point numbers")
    }
  }
}

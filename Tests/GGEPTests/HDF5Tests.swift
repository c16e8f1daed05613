import Foundation
import XCTest
import _HDF5

@testable import GGEPCore
@testable import GGEPPrior
@testable import GGEPNumerics
@testable import GGEPModels
@testable import GGEPConfig
@testable import GGEPPipeline
@testable import GGEPPlot
@testable import GGEPCluster
@testable import GGEPComponents
@testable import GGEPKindGEP
@testable import GGEPKindInversion
@testable import GGEPPriors
@testable import GGEPBench
@testable import GGEPBuiltIns

final class HDF5Tests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("ggep-hdf5-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  /// Asserts that `body` throws an `HDF5Error` whose description contains every fragment.
  private func assertHDF5Error(
    _ fragments: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
  ) {
    do {
      try body()
      XCTFail("expected an HDF5Error containing \(fragments)", file: file, line: line)
    } catch let error as HDF5Error {
      for fragment in fragments {
        XCTAssertTrue(
          error.description.contains(fragment), "'\(error.description)' lacks '\(fragment)'", file: file, line: line)
      }
    } catch {
      XCTFail("expected an HDF5Error, got \(error)", file: file, line: line)
    }
  }

  // MARK: - Datasets

  func testNumericDatasetsRoundTripWithShapes() throws {
    let file = try HDF5File.create(path("numbers.h5"))
    let root = file.root
    let doubles = [1.5, -2.25, .pi, 1e-300, -0.0, .infinity]
    try root.write("doubles", doubles)
    try root.write("floats", [Float](arrayLiteral: 1, 2, 3, 4, 5, 6), shape: [2, 3])
    try root.write("ints", [Int64.min, -1, 0, 1, 42, Int64.max], shape: [3, 2])
    try root.write("bytes", [UInt8](arrayLiteral: 0, 1, 127, 255), shape: [2, 1, 2])
    try root.write("scalar", [7.0], shape: [])
    try file.close()

    let reopened = try HDF5File.open(path("numbers.h5"))
    defer { try? reopened.close() }
    let readBack = reopened.root
    let d = try readBack.readDoubles("doubles")
    XCTAssertEqual(d.shape, [6])
    XCTAssertEqual(d.values.map(\.bitPattern), doubles.map(\.bitPattern))
    let f = try readBack.readFloats("floats")
    XCTAssertEqual(f.values, [1, 2, 3, 4, 5, 6])
    XCTAssertEqual(f.shape, [2, 3])
    let i = try readBack.readInt64s("ints")
    XCTAssertEqual(i.values, [Int64.min, -1, 0, 1, 42, Int64.max])
    XCTAssertEqual(i.shape, [3, 2])
    let b = try readBack.readUInt8s("bytes")
    XCTAssertEqual(b.values, [0, 1, 127, 255])
    XCTAssertEqual(b.shape, [2, 1, 2])
    let s = try readBack.readDoubles("scalar")
    XCTAssertEqual(s.values, [7])
    XCTAssertEqual(s.shape, [])
    XCTAssertEqual(try readBack.shape(of: "floats"), [2, 3])

    // HDF5 converts integer and float storage to the requested type...
    XCTAssertEqual(try readBack.readDoubles("bytes").values, [0, 1, 127, 255])
    XCTAssertEqual(try readBack.readDoubles("floats").values, [1, 2, 3, 4, 5, 6])
    XCTAssertEqual(try readBack.readInt64s("bytes").values, [0, 1, 127, 255])
    // ...but refuses to truncate floating point to integers.
    assertHDF5Error(["/doubles", "floating-point"]) { _ = try readBack.readInt64s("doubles") }
  }

  func testShapeMustMatchValueCount() throws {
    let file = try HDF5File.create(path("shape.h5"))
    defer { try? file.close() }
    assertHDF5Error(["/x", "shape [2, 2] holds 4 values but 3 were given"]) {
      try file.root.write("x", [1.0, 2, 3], shape: [2, 2])
    }
    assertHDF5Error(["negative"]) { try file.root.write("x", [Int64](), shape: [-1]) }
    XCTAssertFalse(file.root.exists("x"))
  }

  func testEmptyArrays() throws {
    let file = try HDF5File.create(path("empty.h5"))
    try file.root.write("d", [Double]())
    try file.root.write("f", [Float]())
    try file.root.write("i", [Int64]())
    try file.root.write("u", [UInt8]())
    try file.root.write("m", [Double](), shape: [0, 3])
    try file.root.write("s", strings: [])
    try file.root.setAttribute("none", [Double]())
    try file.root.setAttribute("noInts", [Int64](), on: "d")
    try file.close()

    let root = try HDF5File.open(path("empty.h5")).root
    XCTAssertEqual(try root.readDoubles("d").values, [])
    XCTAssertEqual(try root.readDoubles("d").shape, [0])
    XCTAssertEqual(try root.readFloats("f").values, [])
    XCTAssertEqual(try root.readInt64s("i").values, [])
    XCTAssertEqual(try root.readUInt8s("u").shape, [0])
    XCTAssertEqual(try root.readDoubles("m").shape, [0, 3])
    XCTAssertEqual(try root.readStrings("s"), [])
    XCTAssertEqual(try root.doublesAttribute("none"), [])
    XCTAssertEqual(try root.int64sAttribute("noInts", on: "d"), [])
  }

  func testUnicodeStringsRoundTrip() throws {
    let strings = ["", "plain", "naïve café", "Größe", "日本語のテキスト", "emoji 🧪🔬", "tab\tnewline\n", "Ωμέγα"]
    let file = try HDF5File.create(path("strings.h5"))
    try file.root.write("labels", strings: strings)
    let group = try file.root.createGroup("résultats/実験")
    try group.write("données", [1.0])
    try group.setAttribute("méthode", "Lanczos–Ritz ✓", on: "données")
    assertHDF5Error(["NUL"]) { try file.root.write("bad", strings: ["a\u{0}b"]) }
    try file.close()

    let root = try HDF5File.open(path("strings.h5")).root
    XCTAssertEqual(try root.readStrings("labels"), strings)
    XCTAssertEqual(try root.memberNames(), ["labels", "résultats"])
    let reopened = try root.openGroup("résultats/実験")
    XCTAssertEqual(try reopened.memberNames(), ["données"])
    XCTAssertEqual(try reopened.stringAttribute("méthode", on: "données"), "Lanczos–Ritz ✓")
    XCTAssertEqual(try reopened.attributeNames(on: "données"), ["méthode"])
  }

  /// Files from h5py hold numpy `S` arrays and `np.bytes_` attributes as fixed-length strings;
  /// build such a file with the C API to check that they read back.
  func testFixedLengthStringsFromOtherWriters() throws {
    let target = path("fixed.h5")
    let fileID = H5Fcreate(target, ggep_h5f_acc_trunc(), ggep_h5p_default(), ggep_h5p_default())
    XCTAssertGreaterThanOrEqual(fileID, 0)
    let type = H5Tcopy(ggep_h5t_c_s1())
    H5Tset_size(type, 5)
    H5Tset_strpad(type, H5T_STR_NULLPAD)
    var dims: [hsize_t] = [3]
    let space = H5Screate_simple(1, &dims, nil)
    let dataset = H5Dcreate2(fileID, "names", type, space, ggep_h5p_default(), ggep_h5p_default(), ggep_h5p_default())
    // "abc" padded with NULs, "hello" filling all five bytes, and "x".
    let bytes: [UInt8] = Array("abc\0\0hellox\0\0\0\0".utf8)
    XCTAssertEqual(H5Dwrite(dataset, type, ggep_h5s_all(), ggep_h5s_all(), ggep_h5p_default(), bytes), 0)
    let scalar = H5Screate(H5S_SCALAR)
    let attribute = H5Acreate2(fileID, "kind", type, scalar, ggep_h5p_default(), ggep_h5p_default())
    XCTAssertEqual(H5Awrite(attribute, type, Array("gep\0\0".utf8)), 0)
    H5Aclose(attribute)
    H5Sclose(scalar)
    H5Dclose(dataset)
    H5Sclose(space)
    H5Tclose(type)
    XCTAssertEqual(H5Fclose(fileID), 0)

    let file = try HDF5File.open(target)
    defer { try? file.close() }
    XCTAssertEqual(try file.root.readStrings("names"), ["abc", "hello", "x"])
    XCTAssertEqual(try file.root.stringAttribute("kind"), "gep")
    assertHDF5Error(["/names", "holds strings, not numbers"]) { _ = try file.root.readDoubles("names") }
    assertHDF5Error(["attribute 'kind' holds strings"]) { _ = try file.root.doubleAttribute("kind") }
  }

  func testLargeDatasetsAreChunkedAndCompressed() throws {
    let count = 200_000
    let values = (0..<count).map { Double($0 % 1000) * 0.5 }
    let matrix = (0..<(300 * 400)).map { Float($0 % 17) }
    try writeHDF5Atomically(to: path("large.h5")) { file in
      try file.root.write("series", values)
      try file.root.write("matrix", matrix, shape: [300, 400])
    }
    let size = try FileManager.default.attributesOfItem(atPath: path("large.h5"))[.size] as! Int
    // Raw data is 1.6 MB + 480 kB; shuffle + deflate must shrink it well below that.
    XCTAssertLessThan(size, 400_000)
    let file = try HDF5File.open(path("large.h5"))
    defer { try? file.close() }
    XCTAssertEqual(try file.root.readDoubles("series").values, values)
    let m = try file.root.readFloats("matrix")
    XCTAssertEqual(m.values, matrix)
    XCTAssertEqual(m.shape, [300, 400])

    XCTAssertEqual(HDF5Group.chunkShape(for: [200_000], elementSize: 8), [25_000])
    XCTAssertEqual(HDF5Group.chunkShape(for: [3, 10], elementSize: 8), [3, 10])
    XCTAssertLessThanOrEqual(HDF5Group.chunkShape(for: [300, 400], elementSize: 4).reduce(1, *) * 4, 256 * 1024)
  }

  func testWritingAgainReplacesADataset() throws {
    let file = try HDF5File.create(path("replace.h5"))
    defer { try? file.close() }
    try file.root.write("x", [1.0, 2.0])
    try file.root.write("x", [Int64](arrayLiteral: 5, 6, 7), shape: [3, 1])
    XCTAssertEqual(try file.root.readInt64s("x").values, [5, 6, 7])
    XCTAssertEqual(try file.root.shape(of: "x"), [3, 1])
    _ = try file.root.createGroup("g")
    assertHDF5Error(["/g", "a group of that name exists"]) { try file.root.write("g", [1.0]) }
  }

  // MARK: - Groups

  func testNestedGroupsAndMembers() throws {
    let file = try HDF5File.create(path("groups.h5"))
    defer { try? file.close() }
    let root = file.root
    let deep = try root.createGroup("runs/cosine/seed-1")
    XCTAssertEqual(deep.path, "/runs/cosine/seed-1")
    try deep.write("eigenvalues", [1.0, 2.0])
    try root.write("runs/lanczos/eigenvalues", [3.0])  // intermediate groups for datasets too
    let runs = try root.openGroup("runs")
    try runs.write("zeta", [0.0])
    try runs.write("alpha", strings: ["a"])

    XCTAssertTrue(root.exists("runs"))
    XCTAssertTrue(root.exists("runs/cosine/seed-1/eigenvalues"))
    XCTAssertTrue(root.exists("/runs/cosine"))
    XCTAssertTrue(runs.exists("cosine/seed-1"))
    XCTAssertFalse(root.exists("runs/missing/deeper/still"))
    XCTAssertFalse(root.exists("runs/zeta/inside-a-dataset"))
    XCTAssertFalse(root.exists(""))

    XCTAssertEqual(try runs.memberNames(), ["alpha", "cosine", "lanczos", "zeta"])
    XCTAssertEqual(try root.memberNames(), ["runs"])
    XCTAssertEqual(try deep.memberNames(), ["eigenvalues"])
    XCTAssertTrue(try runs.isGroup("cosine"))
    XCTAssertFalse(try runs.isGroup("zeta"))
    assertHDF5Error(["/runs/nothing", "not found"]) { _ = try runs.isGroup("nothing") }
    assertHDF5Error(["/runs/zeta", "not a group"]) { _ = try runs.openGroup("zeta") }
    assertHDF5Error(["/runs/cosine", "group not found"]) { _ = try root.openGroup("runs/cosine/x/..") }
    assertHDF5Error(["/runs/cosine", "already exists"]) { _ = try root.createGroup("runs/cosine") }
    assertHDF5Error(["/runs/cosine", "not a dataset"]) { _ = try root.readDoubles("runs/cosine") }

    try runs.remove("cosine")
    try root.remove("runs/zeta")
    XCTAssertEqual(try runs.memberNames(), ["alpha", "lanczos"])
    assertHDF5Error(["/runs/cosine", "not found"]) { try runs.remove("cosine") }
  }

  // MARK: - Attributes

  func testAttributesOfEveryTypeOnRootGroupAndDataset() throws {
    let file = try HDF5File.create(path("attributes.h5"))
    let group = try file.root.createGroup("runs/cosine")
    try group.write("values", [1.0, 2.0, 3.0])
    let owners: [(HDF5Group, String?)] = [(file.root, nil), (group, nil), (group, "values"), (file.root, "runs/cosine/values")]
    for (owner, object) in owners {
      let prefix = object ?? "self"
      try owner.setAttribute("\(prefix)-string", "ü \(prefix)", on: object)
      try owner.setAttribute("\(prefix)-double", 0.125, on: object)
      try owner.setAttribute("\(prefix)-int", Int64(-9_007_199_254_740_993), on: object)
      try owner.setAttribute("\(prefix)-doubles", [1.5, -2.5], on: object)
      try owner.setAttribute("\(prefix)-ints", [Int64](arrayLiteral: 1, 2, 3), on: object)
    }
    try file.close()

    let reopened = try HDF5File.open(path("attributes.h5"))
    defer { try? reopened.close() }
    let root = reopened.root
    let g = try root.openGroup("runs/cosine")
    for (owner, object) in [(root, nil), (g, nil), (g, "values")] as [(HDF5Group, String?)] {
      let prefix = object ?? "self"
      XCTAssertEqual(try owner.stringAttribute("\(prefix)-string", on: object), "ü \(prefix)")
      XCTAssertEqual(try owner.doubleAttribute("\(prefix)-double", on: object), 0.125)
      XCTAssertEqual(try owner.int64Attribute("\(prefix)-int", on: object), -9_007_199_254_740_993)
      XCTAssertEqual(try owner.doublesAttribute("\(prefix)-doubles", on: object), [1.5, -2.5])
      XCTAssertEqual(try owner.int64sAttribute("\(prefix)-ints", on: object), [1, 2, 3])
      // Integer storage converts to double.
      XCTAssertEqual(try owner.doubleAttribute("\(prefix)-int", on: object), -9_007_199_254_740_992)
    }
    XCTAssertEqual(
      try root.attributeNames(),
      ["self-double", "self-doubles", "self-int", "self-ints", "self-string"])
    XCTAssertEqual(
      try g.attributeNames(on: "values"),
      ["runs/cosine/values-double", "runs/cosine/values-doubles", "runs/cosine/values-int",
       "runs/cosine/values-ints", "runs/cosine/values-string", "values-double", "values-doubles",
       "values-int", "values-ints", "values-string"])
    XCTAssertEqual(try g.attributeNames(on: "values"), try root.attributeNames(on: "runs/cosine/values"))

    assertHDF5Error(["attributes.h5", "/runs/cosine", "attribute 'missing' not found"]) {
      _ = try g.stringAttribute("missing")
    }
    assertHDF5Error(["/runs/cosine/nope", "not found"]) { _ = try g.doubleAttribute("x", on: "nope") }
    assertHDF5Error(["floating-point"]) { _ = try root.int64Attribute("self-double") }
    assertHDF5Error(["holds 2 values, not one"]) { _ = try root.doubleAttribute("self-doubles") }
    assertHDF5Error(["read-only"]) { try root.setAttribute("x", 1.0) }
  }

  func testReplacingAnAttributeChangesValueAndType() throws {
    let file = try HDF5File.create(path("replace-attr.h5"))
    defer { try? file.close() }
    try file.root.setAttribute("status", "running")
    try file.root.setAttribute("status", "done")
    XCTAssertEqual(try file.root.stringAttribute("status"), "done")
    try file.root.setAttribute("status", 3.0)
    XCTAssertEqual(try file.root.doubleAttribute("status"), 3.0)
    try file.root.setAttribute("status", [Int64](arrayLiteral: 4, 5))
    XCTAssertEqual(try file.root.int64sAttribute("status"), [4, 5])
    XCTAssertEqual(try file.root.attributeNames(), ["status"])
  }

  // MARK: - Errors

  func testMissingDatasetErrorNamesFileAndObject() throws {
    let target = path("results.h5")
    let file = try HDF5File.create(target)
    defer { try? file.close() }
    let runs = try file.root.createGroup("runs")
    do {
      _ = try runs.readDoubles("cosine")
      XCTFail("expected an error")
    } catch let error as HDF5Error {
      XCTAssertEqual(error.path, target)
      XCTAssertEqual(error.object, "/runs/cosine")
      XCTAssertEqual(error.description, "\(target): /runs/cosine: dataset not found")
      XCTAssertEqual(error.localizedDescription, error.description)
    }
    assertHDF5Error([target, "/runs/cosine/x", "dataset not found"]) { _ = try runs.readStrings("cosine/x") }
  }

  func testNonHDF5AndMissingFilesGiveClearErrors() throws {
    let text = path("notes.h5")
    try "just some text\n".write(toFile: text, atomically: true, encoding: .utf8)
    assertHDF5Error([text, "not an HDF5 file"]) { _ = try HDF5File.open(text) }
    assertHDF5Error([path("missing.h5"), "file not found"]) { _ = try HDF5File.open(path("missing.h5")) }
    assertHDF5Error(["is a directory"]) { _ = try HDF5File.open(directory.path) }
    assertHDF5Error(["does not exist"]) { _ = try HDF5File.create(path("no/such/dir/x.h5")) }
    _ = try HDF5File.create(path("exists.h5"))
    assertHDF5Error(["file already exists"]) { _ = try HDF5File.create(path("exists.h5"), truncate: false) }
  }

  func testCloseIsIdempotentAndInvalidatesGroups() throws {
    let file = try HDF5File.create(path("close.h5"))
    let group = try file.root.createGroup("g")
    try group.write("x", [1.0])
    try file.flush()
    try file.close()
    try file.close()
    XCTAssertFalse(file.isOpen)
    XCTAssertFalse(group.exists("x"))
    assertHDF5Error(["file is closed"]) { _ = try group.readDoubles("x") }
    assertHDF5Error(["file is closed"]) { try file.flush() }
    // The file really is closed although `group` is still referenced: it opens elsewhere.
    XCTAssertEqual(try HDF5File.open(path("close.h5")).root.readDoubles("g/x").values, [1.0])
  }

  // MARK: - Atomic writes and threads

  func testAtomicWriteKeepsOldFileWhenBodyThrows() throws {
    struct Abort: Error {}
    let target = path("atomic.h5")
    try writeHDF5Atomically(to: target) { file in try file.root.write("version", [Int64(1)]) }
    XCTAssertThrowsError(
      try writeHDF5Atomically(to: target) { file in
        try file.root.write("version", [Int64(2)])
        throw Abort()
      }
    ) { XCTAssertTrue($0 is Abort) }
    XCTAssertEqual(try HDF5File.open(target).root.readInt64s("version").values, [1])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["atomic.h5"])
  }

  func testAtomicWriteReplacesFileOnSuccess() throws {
    let target = path("atomic.h5")
    try "old, not even HDF5".write(toFile: target, atomically: true, encoding: .utf8)
    var kept: HDF5Group?
    try writeHDF5Atomically(to: target) { file in
      kept = try file.root.createGroup("g")  // a group outliving the body must not keep it open
      try kept!.write("version", [Int64(2)])
      try file.root.setAttribute("writer", "ggep")
    }
    let file = try HDF5File.open(target)
    defer { try? file.close() }
    XCTAssertEqual(try file.root.readInt64s("g/version").values, [2])
    XCTAssertEqual(try file.root.stringAttribute("writer"), "ggep")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["atomic.h5"])
    XCTAssertNotNil(kept)
  }

  func testConcurrentWritersOfDifferentFiles() throws {
    let base = directory.path
    let failures = FailureLog()
    DispatchQueue.concurrentPerform(iterations: 4) { worker in
      do {
        let target = "\(base)/worker-\(worker).h5"
        let values = (0..<50_000).map { Double($0 * (worker + 1)) }
        try writeHDF5Atomically(to: target) { file in
          for run in 0..<5 {
            let group = try file.root.createGroup("runs/\(run)")
            try group.write("values", values)
            try group.write("labels", strings: ["worker \(worker)", "run \(run)", "ü"])
            try group.setAttribute("worker", Int64(worker))
          }
        }
        let root = try HDF5File.open(target).root
        for run in 0..<5 {
          let group = try root.openGroup("runs/\(run)")
          guard try group.readDoubles("values").values == values,
                try group.readStrings("labels") == ["worker \(worker)", "run \(run)", "ü"],
                try group.int64Attribute("worker") == Int64(worker)
          else { throw HDF5Error(path: target, object: group.path, message: "wrong contents") }
        }
      } catch {
        failures.append("\(worker): \(error)")
      }
    }
    XCTAssertEqual(failures.messages, [])
  }

  // MARK: - Resource hygiene

  /// Every identifier the wrapper opens (files, groups, datasets, attributes, types, spaces,
  /// property lists) must be closed again, on success and on every error path.
  func testNoIdentifiersLeak() throws {
    func workload() throws {
      let target = path("leaks.h5")
      try writeHDF5Atomically(to: target) { file in
        let group = try file.root.createGroup("a/b")
        try group.write("x", [1.0, 2.0], shape: [2, 1])
        try group.write("big", [Float](repeating: 1, count: 40_000))
        try group.write("s", strings: ["ü", "v"])
        try group.setAttribute("t", "text", on: "x")
        try group.setAttribute("t", 2.0, on: "x")
        try file.root.setAttribute("n", [Int64](arrayLiteral: 1, 2))
        _ = try? group.write("bad", [1.0], shape: [2])
        _ = try? group.write("bad", strings: ["\u{0}"])
      }
      let file = try HDF5File.open(target)
      let group = try file.root.openGroup("a/b")
      _ = try group.readDoubles("x")
      _ = try group.readFloats("big")
      _ = try group.readStrings("s")
      _ = try group.doubleAttribute("t", on: "x")
      _ = try group.memberNames()
      _ = try group.attributeNames(on: "x")
      _ = try file.root.int64sAttribute("n")
      _ = try? group.readDoubles("missing")
      _ = try? group.readInt64s("x")
      _ = try? group.readStrings("x")
      _ = try? group.stringAttribute("t", on: "x")
      _ = try? group.setAttribute("t", 1.0)
      _ = try? HDF5File.open(path("missing.h5"))
      // Only the file and the one group held here are open in it (0x1F: H5F_OBJ_ALL, a macro
      // Swift does not import).
      XCTAssertEqual(withHDF5 { H5Fget_obj_count(file.id, 0x1F) }, 2)
      try file.close()
    }
    try workload()  // the first run initialises HDF5's predefined types and default lists
    let before = probeIdentifiers()
    for _ in 0..<3 { try workload() }
    let after = probeIdentifiers()
    // HDF5 1.10 cannot count identifiers of its own types (H5Inmembers refuses them), but it
    // numbers each type's identifiers sequentially: every one handed out by the workload
    // must be invalid again.
    withHDF5 {
      for (first, last) in zip(before, after) {
        XCTAssertGreaterThan(last - first, 1)
        let leaked = ((first + 1)..<last).filter { H5Iis_valid($0) > 0 }
        XCTAssertEqual(leaked, [], "type \(H5Iget_type(first).rawValue)")
      }
    }
  }

  /// Fresh identifiers of each kind the wrapper uses (all closed again): dataspace, datatype,
  /// property list, file, group, dataset, attribute.
  private func probeIdentifiers() -> [hid_t] {
    withHDF5 {
      let space = H5Screate(H5S_SCALAR)
      let type = H5Tcopy(ggep_h5t_native_double())
      let plist = H5Pcreate(ggep_h5p_file_access())
      let file = H5Fcreate(path("probe.h5"), ggep_h5f_acc_trunc(), ggep_h5p_default(), ggep_h5p_default())
      let group = H5Gcreate2(file, "g", ggep_h5p_default(), ggep_h5p_default(), ggep_h5p_default())
      let dataset = H5Dcreate2(file, "d", type, space, ggep_h5p_default(), ggep_h5p_default(), ggep_h5p_default())
      let attribute = H5Acreate2(file, "a", type, space, ggep_h5p_default(), ggep_h5p_default())
      let ids = [space, type, plist, file, group, dataset, attribute]
      XCTAssertTrue(ids.allSatisfy { $0 >= 0 })
      H5Aclose(attribute)
      H5Dclose(dataset)
      H5Gclose(group)
      H5Fclose(file)
      H5Pclose(plist)
      H5Tclose(type)
      H5Sclose(space)
      return ids
    }
  }

  /// HDF5 must print nothing to stderr, also from threads that never called it before: in a
  /// thread-safe build its error-printing switch is per thread.
  func testErrorsAreNotPrintedFromAnyThread() throws {
    let capture = path("stderr.txt")
    let text = path("text.h5")
    try "not HDF5".write(toFile: text, atomically: true, encoding: .utf8)
    let target = path("errors.h5")
    try writeHDF5Atomically(to: target) { try $0.root.write("x", [1.0]) }

    fflush(nil)  // all C streams; naming `stderr` is not concurrency-safe in Swift 6
    let saved = dup(STDERR_FILENO)
    let sink = open(capture, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    dup2(sink, STDERR_FILENO)
    let done = DispatchGroup()
    for _ in 0..<4 {
      done.enter()
      Thread {
        let file = try? HDF5File.open(target)
        _ = try? file?.root.readDoubles("missing")
        _ = try? file?.root.openGroup("x/y")
        _ = try? HDF5File.open(text)
        done.leave()
      }.start()
    }
    done.wait()
    fflush(nil)  // all C streams; naming `stderr` is not concurrency-safe in Swift 6
    dup2(saved, STDERR_FILENO)
    close(saved)
    close(sink)
    XCTAssertEqual(try String(contentsOfFile: capture, encoding: .utf8), "")
  }
}

/// Collects failures from `concurrentPerform` workers.
private final class FailureLog: @unchecked Sendable {
  // @unchecked Sendable: `entries` is only touched with `lock` held.
  private let lock = NSLock()
  private var entries: [String] = []
  func append(_ message: String) { lock.withLock { entries.append(message) } }
  var messages: [String] { lock.withLock { entries } }
}

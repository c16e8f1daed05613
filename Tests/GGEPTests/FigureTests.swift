import Foundation
import XCTest

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

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Figure writers: SVG structure and escaping, PNG encoding (checked by our decoder and, when
/// available, by Python's zlib), the rasterised plot, and the image grid's geometry.
final class FigureTests: GGEPTestCase {
  // MARK: - Fixtures

  static let methods = ["Rifle20", "Rifle100", "PPower", "PRFM"]
  static let ms: [Double] = [50, 100, 200, 300, 400, 500]

  /// Four well-separated curves (so markers never overlap), with error bars.
  static func cosinePanel(title: String, offset: Double = 0) -> LinePlot {
    let series = methods.enumerated().map { index, name in
      LinePlot.Series(
        name: name,
        points: ms.map { m in
          let y = 0.1 + 0.2 * Double(index) + 0.1 * (m / 500) + offset
          return LinePlot.Point(x: m, y: min(y, 0.98), error: 0.02 + 0.01 * Double(index))
        })
    }
    return LinePlot(title: title, xLabel: "m", yLabel: "cosine similarity", series: series, yRange: 0...1)
  }

  static func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "ggep-figures-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// Deterministic pseudo-random bytes (xorshift), so PNG tests cover every filter type.
  static func noise(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    return (0..<count).map { _ in
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return UInt8(truncatingIfNeeded: state >> 24)
    }
  }

  // MARK: - Ticks

  func testNiceAxisUsesOneTwoFiveSteps() {
    let x = NiceAxis(values: Self.ms)
    XCTAssertEqual(x.lower, 0)
    XCTAssertEqual(x.upper, 500)
    XCTAssertEqual(x.ticks, [0, 100, 200, 300, 400, 500])
    XCTAssertEqual(x.ticks.map(x.label), ["0", "100", "200", "300", "400", "500"])

    let y = NiceAxis(values: [0.3], fixed: 0...1)
    XCTAssertEqual(y.lower, 0)
    XCTAssertEqual(y.upper, 1)
    XCTAssertEqual(y.ticks.count, 6)
    XCTAssertEqual(y.ticks.map(y.label), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])

    let small = NiceAxis(values: [0.013, 0.061])
    XCTAssertEqual(small.step, 0.01, accuracy: 1e-15)
    XCTAssertEqual(small.lower, 0.01, accuracy: 1e-15)
    XCTAssertEqual(small.upper, 0.07, accuracy: 1e-15)
    XCTAssertEqual(small.label(small.ticks[0]), "0.01")

    let negative = NiceAxis(values: [-3, 7])
    XCTAssertEqual(negative.ticks, [-4, -2, 0, 2, 4, 6, 8])
    XCTAssertEqual(negative.label(0), "0")

    XCTAssertEqual(NiceAxis.niceStep(0.3), 0.5)
    XCTAssertEqual(NiceAxis.niceStep(2), 2)
    XCTAssertEqual(NiceAxis.niceStep(7), 10)
    // A single value or none still gives a usable axis.
    XCTAssertGreaterThan(NiceAxis(values: [5]).upper, NiceAxis(values: [5]).lower)
    XCTAssertEqual(NiceAxis(values: []).ticks.first, 0)
  }

  // MARK: - SVG

  func testSVGHasOnePolylinePerSeriesWithMonotoneXMapping() throws {
    let svg = Self.cosinePanel(title: "Eq. (24)").svg()
    let document = try SVGDocument(svg)
    XCTAssertEqual(document.root?.name, "svg")
    XCTAssertNotNil(document.root?.attributes["viewBox"])
    XCTAssertEqual(document.root?.attributes["width"], String(FigureRenderer.panelWidth))
    XCTAssertTrue(document.elements.contains { $0.name == "rect" && $0.attributes["fill"] == "#ffffff" })

    let polylines = document.elements.filter { $0.name == "polyline" }
    XCTAssertEqual(polylines.count, Self.methods.count, "exactly one polyline per series")
    XCTAssertEqual(polylines.map { $0.attributes["data-name"] }, Self.methods)
    XCTAssertTrue(polylines.allSatisfy { $0.attributes["class"] == "series" })
    XCTAssertEqual(Set(polylines.compactMap { $0.attributes["stroke"] }).count, Self.methods.count, "distinct colours")

    var firstXs: [Double]?
    for polyline in polylines {
      let points = try XCTUnwrap(polyline.attributes["points"]).split(separator: " ").map { pair in
        pair.split(separator: ",").map { Double($0)! }
      }
      XCTAssertEqual(points.count, Self.ms.count)
      let xs = points.map { $0[0] }
      // Strictly increasing, and linear in m: equal data steps give equal pixel steps.
      XCTAssertTrue(zip(xs, xs.dropFirst()).allSatisfy { $0 < $1 })
      let pixelsPerUnit = (xs[1] - xs[0]) / (Self.ms[1] - Self.ms[0])
      for i in 1..<xs.count {
        XCTAssertEqual(xs[i] - xs[0], pixelsPerUnit * (Self.ms[i] - Self.ms[0]), accuracy: 0.02)
      }
      if let firstXs { XCTAssertEqual(xs, firstXs) } else { firstXs = xs }
      // Higher cosine is higher on the page (smaller y).
      let ys = points.map { $0[1] }
      XCTAssertTrue(zip(ys, ys.dropFirst()).allSatisfy { $0 >= $1 })
    }

    // Markers and error bars (a stem and two caps per point) for every series.
    for name in Self.methods {
      let markers = document.elements.filter { $0.attributes["class"] == "marker" && $0.attributes["data-name"] == name }
      XCTAssertEqual(markers.count, Self.ms.count + 1, "one marker per point plus the legend's")
      let errorBars = document.elements.filter { $0.attributes["class"] == "error-bar" && $0.attributes["data-name"] == name }
      XCTAssertEqual(errorBars.count, 3 * Self.ms.count)
    }
    XCTAssertTrue(document.elements.contains { $0.name == "circle" })
    let axes = try XCTUnwrap(document.elements.first { $0.attributes["class"] == "axes" })
    XCTAssertEqual(axes.attributes["fill"], "none", "SVG fills shapes black by default")
    XCTAssertTrue(polylines.allSatisfy { $0.attributes["fill"] == "none" })
    XCTAssertTrue(document.texts.contains("cosine similarity"))
    XCTAssertTrue(document.texts.contains("Eq. (24)"))
    XCTAssertTrue(document.texts.contains("0.2") && document.texts.contains("500"))
    for name in Self.methods { XCTAssertTrue(document.texts.contains(name), "legend entry \(name)") }
  }

  func testPanelsShareOneLegend() throws {
    let panels = [Self.cosinePanel(title: "Eq. (24)"), Self.cosinePanel(title: "Eq. (25)", offset: -0.05)]
    let svg = FigureRenderer.svg(panels, title: "Cosine similarity against m")
    let document = try SVGDocument(svg)
    let polylines = document.elements.filter { $0.name == "polyline" }
    XCTAssertEqual(polylines.count, 2 * Self.methods.count)
    XCTAssertEqual(polylines.compactMap { $0.attributes["data-name"] }, Self.methods + Self.methods)
    // The same method has the same style in both panels.
    for name in Self.methods {
      let strokes = Set(polylines.filter { $0.attributes["data-name"] == name }.map { $0.attributes["stroke"] ?? "" })
      XCTAssertEqual(strokes.count, 1)
    }
    XCTAssertEqual(document.elements.filter { $0.attributes["class"] == "legend" }.count, 1)
    for name in Self.methods { XCTAssertEqual(document.texts.filter { $0 == name }.count, 1) }
    // The second panel's series lie to the right of the first's.
    let firstX = { (index: Int) in Double(polylines[index].attributes["points"]!.split(separator: ",")[0])! }
    XCTAssertGreaterThan(firstX(Self.methods.count), firstX(0) + Double(FigureRenderer.panelWidth) / 2)
    XCTAssertEqual(document.root?.attributes["width"], String(2 * FigureRenderer.panelWidth))
  }

  func testSVGEscapesText() throws {
    var panel = Self.cosinePanel(title: "a <&> \"quoted\" 'b'")
    panel.series[0].name = "R&D <1>"
    let svg = panel.svg()
    XCTAssertTrue(svg.contains("a &lt;&amp;&gt; &quot;quoted&quot; &apos;b&apos;"))
    XCTAssertFalse(svg.contains("<&>"))
    let document = try SVGDocument(svg)
    XCTAssertTrue(document.texts.contains("a <&> \"quoted\" 'b'"))
    XCTAssertEqual(document.elements.first { $0.name == "polyline" }?.attributes["data-name"], "R&D <1>")
    XCTAssertEqual(FigureDrawing.xmlEscape("x\u{1}y"), "xy", "control characters are not allowed in XML")
  }

  func testOutOfRangeDataAndEmptySeriesStillGiveValidSVG() throws {
    let panel = LinePlot(
      title: "", xLabel: "", yLabel: "",
      series: [
        (name: "empty", points: []),
        (name: "wild", points: [(x: 1, y: 3, error: 0.5), (x: 2, y: .nan, error: nil), (x: 3, y: -2, error: nil)]),
      ], yRange: 0...1)
    let document = try SVGDocument(panel.svg(width: 300, height: 240))
    let polylines = document.elements.filter { $0.name == "polyline" }
    XCTAssertEqual(polylines.map { $0.attributes["data-name"] }, ["empty", "wild"])
    XCTAssertEqual(polylines[1].attributes["points"]?.split(separator: " ").count, 2, "the NaN point is left out")
    XCTAssertTrue(document.elements.contains { $0.name == "clipPath" })
  }

  // MARK: - PNG

  func testPNGRoundTripsEveryChannelCount() throws {
    for (channels, width, height) in [(1, 1, 1), (1, 17, 5), (3, 31, 9), (4, 8, 13), (3, 200, 3)] {
      // Noise plus smooth ramps, so the encoder picks different filters on different rows.
      let count = width * height * channels
      var pixels = Self.noise(count, seed: UInt64(count))
      for i in stride(from: 0, to: count, by: 2) { pixels[i] = UInt8(truncatingIfNeeded: i / channels) }
      let bytes = PNG.encode(width: width, height: height, channels: channels, pixels: pixels)
      XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
      let chunks = try PNG.chunks(bytes)
      XCTAssertEqual(chunks.map(\.type), ["IHDR", "IDAT", "IEND"])
      XCTAssertTrue(chunks.allSatisfy(\.crcIsValid))
      let image = try PNG.decode(bytes)
      XCTAssertEqual(image, PNG.Image(width: width, height: height, channels: channels, pixels: pixels))
    }
  }

  func testPNGDecoderDetectsCorruption() throws {
    let pixels = Self.noise(40 * 30 * 3, seed: 7)
    let bytes = PNG.encode(width: 40, height: 30, channels: 3, pixels: pixels)
    XCTAssertNoThrow(try PNG.decode(bytes))
    // Every single flipped byte after the signature is caught (by a CRC, or the framing).
    for offset in stride(from: 8, to: bytes.count, by: 7) {
      var corrupted = bytes
      corrupted[offset] ^= 0x5A
      XCTAssertThrowsError(try PNG.decode(corrupted), "flipped byte at \(offset)")
    }
    var badSignature = bytes
    badSignature[1] = 0
    XCTAssertThrowsError(try PNG.decode(badSignature))
    XCTAssertThrowsError(try PNG.decode(Array(bytes.dropLast(5))))
    // A CRC mismatch is reported as such, naming the chunk.
    var badCRC = bytes
    badCRC[bytes.count - 13] ^= 1  // last byte of IDAT's CRC (IEND is 12 bytes)
    XCTAssertThrowsError(try PNG.decode(badCRC)) { error in
      XCTAssertTrue("\(error)".contains("CRC") && "\(error)".contains("IDAT"), "\(error)")
    }
  }

  func testPNGIsReadableByPython() throws {
    let directory = try Self.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/check.png"
    let pixels = Self.noise(23 * 11 * 4, seed: 3)
    try FigureFile.write(PNG.encode(width: 23, height: 11, channels: 4, pixels: pixels), to: path)
    // Independent of our decoder: zlib, struct and binascii from Python's standard library.
    let script = """
      import sys, struct, zlib
      data = open(sys.argv[1], 'rb').read()
      assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
      pos, idat, ihdr = 8, b'', None
      while pos < len(data):
          length, kind = struct.unpack('>I4s', data[pos:pos + 8])
          body = data[pos + 8:pos + 8 + length]
          crc, = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])
          assert zlib.crc32(kind + body) & 0xffffffff == crc, kind
          if kind == b'IHDR': ihdr = struct.unpack('>IIBBBBB', body)
          if kind == b'IDAT': idat += body
          pos += 12 + length
      w, h, depth, ctype = ihdr[:4]
      raw = zlib.decompress(idat)
      assert len(raw) == h * (1 + w * 4), len(raw)
      print(w, h, depth, ctype)
      """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, path]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = Pipe()
    do { try process.run() } catch { throw XCTSkip("python3 is not available: \(error)") }
    process.waitUntilExit()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    if process.terminationStatus == 127 { throw XCTSkip("python3 is not available") }
    XCTAssertEqual(process.terminationStatus, 0, "Python rejected our PNG")
    XCTAssertEqual(text.trimmingCharacters(in: .whitespacesAndNewlines), "23 11 8 6")
  }

  /// A kind pins its methods' colours (the GEP kind: the paper's, PPower in the first slot in
  /// every figure); any other name takes the first free slot, and variants of one method share
  /// its colour with their own dash. Without pins, names take slots in order.
  func testPinnedMethodsKeepTheirColourInEveryFigure() {
    typealias Style = FigureRenderer.SeriesStyle
    let palette = FigureColor.okabeIto
    let pinned = ["PPower": 0, "PRFM": 1]
    let a = Style.styles(for: ["PRFM", "PPower", "X"], pinned: pinned)
    let b = Style.styles(for: ["X", "PPower η=0.1", "PPower η=0.2"], pinned: pinned)
    XCTAssertEqual(a["PPower"]!.color.hexString, palette[0].hexString)
    XCTAssertEqual(a["PRFM"]!.color.hexString, palette[1].hexString)
    XCTAssertEqual(a["X"]!.color.hexString, palette[2].hexString)
    XCTAssertEqual(b["X"]!.color.hexString, palette[2].hexString)
    XCTAssertEqual(b["PPower η=0.1"]!.color.hexString, palette[0].hexString)
    XCTAssertEqual(b["PPower η=0.2"]!.color.hexString, palette[0].hexString)
    XCTAssertNotEqual(b["PPower η=0.1"]!.dash, b["PPower η=0.2"]!.dash)
    let unpinned = Style.styles(for: ["PRFM", "PPower"])
    XCTAssertEqual(unpinned["PRFM"]!.color.hexString, palette[0].hexString)
    XCTAssertEqual(unpinned["PPower"]!.color.hexString, palette[1].hexString)
  }

  // MARK: - Raster plot

  func testRasterPlotShowsSeriesColoursAtDataPoints() throws {
    let drawing = FigureRenderer.drawing([Self.cosinePanel(title: "Eq. (24)")])
    let bytes = drawing.png()
    let image = try PNG.decode(bytes)
    XCTAssertEqual(image.width, drawing.width)
    XCTAssertEqual(image.height, drawing.height)
    XCTAssertEqual(image.channels, 3)
    XCTAssertEqual(Array(image[0, 0]), [255, 255, 255], "white background")
    XCTAssertEqual(Array(image[drawing.width - 1, drawing.height - 1]), [255, 255, 255])

    // Marker centres, from the same drawing the SVG is written from.
    var markers: [(center: FigurePoint, name: String)] = []
    func collect(_ items: [FigureDrawing.Item]) {
      for item in items {
        switch item {
        case .clipped(_, let children): collect(children)
        case .circle(let c, _, _, _, let tag) where tag.role == "marker": markers.append((c, tag.name!))
        case .rect(let r, _, _, let tag) where tag.role == "marker":
          markers.append((FigurePoint(r.x + r.width / 2, r.y + r.height / 2), tag.name!))
        case .polygon(let points, _, _, let tag) where tag.role == "marker":
          // The centroid lies inside the triangle and diamond markers.
          let n = Double(points.count)
          markers.append((FigurePoint(points.map(\.x).reduce(0, +) / n, points.map(\.y).reduce(0, +) / n), tag.name!))
        default: break
        }
      }
    }
    collect(drawing.items)
    XCTAssertEqual(markers.count, Self.methods.count * (Self.ms.count + 1))
    let styles = FigureRenderer.SeriesStyle.styles(for: Self.methods)
    for name in Self.methods {
      let expected = styles[name]!.color
      for marker in markers where marker.name == name {
        let pixel = image[Int(marker.center.x), Int(marker.center.y)]
        let rgb = Array(pixel)
        let distance = zip(rgb, [expected.red, expected.green, expected.blue]).map { abs(Int($0) - Int($1)) }.max()!
        XCTAssertLessThanOrEqual(distance, 12, "\(name) at \(marker.center): \(rgb) vs \(expected.hexString)")
      }
    }
    // Axis labels and tick labels put dark pixels on the page.
    XCTAssertTrue(image.pixels.contains(0x22) || image.pixels.contains(0))
  }

  func testRasterLinesAreAntiAliasedAndCrispOnPixelCentres() {
    var canvas = RasterCanvas(width: 20, height: 20)
    canvas.strokeLine(from: FigurePoint(2, 5.5), to: FigurePoint(18, 5.5), FigureStroke(.black, width: 1))
    XCTAssertEqual(canvas.color(x: 10, y: 5), .black)
    XCTAssertEqual(canvas.color(x: 10, y: 4), .white)
    XCTAssertEqual(canvas.color(x: 10, y: 6), .white)
    // A diagonal line has partially covered (gray) pixels along its edges.
    canvas.strokeLine(from: FigurePoint(2, 8), to: FigurePoint(18, 17), FigureStroke(.black, width: 2))
    let grays = (0..<20).flatMap { y in (0..<20).map { x in canvas.color(x: x, y: y).red } }.filter { $0 > 0 && $0 < 255 }
    XCTAssertGreaterThan(grays.count, 10)
    // Dashes cover their on-lengths.
    let pieces = RasterCanvas.dashed([FigurePoint(0, 0), FigurePoint(30, 0)], pattern: [4, 2])
    XCTAssertEqual(pieces.count, 5)
    XCTAssertEqual(pieces[1].first!.x, 6, accuracy: 1e-9)
    XCTAssertEqual(pieces[1].last!.x, 10, accuracy: 1e-9)
  }

  func testBitmapFontCoversPrintableASCII() {
    for scalar in 32...126 {
      XCTAssertTrue(BitmapFont.covers(Character(UnicodeScalar(UInt8(scalar)))), "no glyph for \(scalar)")
    }
    for character in "±×·≈≤≥ηλρβσμ°–—" { XCTAssertTrue(BitmapFont.covers(character)) }
    XCTAssertEqual(BitmapFont.glyph("€"), BitmapFont.glyph("?"))
    XCTAssertEqual(BitmapFont.glyph("\u{2212}"), BitmapFont.glyph("-"), "a minus sign looks like a hyphen")
    XCTAssertEqual(BitmapFont.width("m", scale: 2), 10)
    XCTAssertEqual(BitmapFont.width("PRFM", scale: 2), 46)
    // Text renders in the expected box: "I" at scale 1 has its bar in column 2.
    var canvas = RasterCanvas(width: 10, height: 12)
    canvas.drawText(FigureDrawing.Text("I", at: FigurePoint(1, 8), scale: 1))
    XCTAssertEqual(canvas.color(x: 3, y: 4), .black)
    XCTAssertEqual(canvas.color(x: 2, y: 1), .black)
    XCTAssertEqual(canvas.color(x: 2, y: 4), .white)
    XCTAssertEqual(canvas.color(x: 3, y: 8), .white, "nothing on the baseline row")
  }

  // MARK: - Image grid

  func testImageGridGeometryAndNearestNeighbourCells() throws {
    let side = 28
    let images: [[Double]] = (0..<5).map { (k: Int) -> [Double] in
      (0..<(side * side)).map { (i: Int) -> Double in Double((i * 7 + k * 13) % 256) / 255 }
    }
    let labels = ["Ground truth", "Rifle20", "PRFM"]
    let grid = try ImageGrid(
      title: "Eq. (24), m = 200", rows: labels.map { (label: $0, images: images) }, scale: 3, scaling: .clamp01)
    let layout = grid.layout
    let labelWidth = BitmapFont.width("Ground truth", scale: 2)
    XCTAssertEqual(layout.gridX, ImageGrid.margin + labelWidth + 10)
    XCTAssertEqual(layout.gridY, ImageGrid.margin + (BitmapFont.ascent + BitmapFont.descent) * 2 + 8)
    let cell: Int = 28 * 3
    let gridWidth: Int = 5 * cell + 4 * 2
    let gridHeight: Int = 3 * cell + 2 * 2
    XCTAssertEqual(layout.width, layout.gridX + gridWidth + ImageGrid.margin)
    XCTAssertEqual(layout.height, layout.gridY + gridHeight + ImageGrid.margin)

    let image = try PNG.decode(grid.png())
    XCTAssertEqual(image.width, layout.width)
    XCTAssertEqual(image.height, layout.height)
    XCTAssertEqual(image.channels, 1, "a grayscale figure is written as grayscale")
    for row in 0..<3 {
      for column in 0..<5 {
        let origin = layout.cellOrigin(row: row, column: column)
        let levels = ImageGrid.grayLevels(images[column], scaling: .clamp01)
        for y in 0..<(side * 3) {
          for x in 0..<(side * 3) {
            let pixel = image.pixels[(origin.y + y) * image.width + origin.x + x]
            if pixel != levels[(y / 3) * side + x / 3] {
              return XCTFail("cell (\(row), \(column)) pixel (\(x), \(y)): \(pixel)")
            }
          }
        }
        // The separators beside a cell are background.
        if column < 4 { XCTAssertEqual(image.pixels[origin.y * image.width + origin.x + side * 3], 255) }
      }
    }
    // Labels are drawn left of the grid.
    var labelInk = 0
    for y in layout.gridY..<(layout.gridY + cell) {
      for x in ImageGrid.margin..<(layout.gridX - 10) where image.pixels[y * image.width + x] == 0 { labelInk += 1 }
    }
    XCTAssertGreaterThan(labelInk, 0)
  }

  func testImageGridScalingAndValidation() throws {
    XCTAssertEqual(ImageGrid.grayLevels([-1, 0, 0.5, 1, 2, .nan], scaling: .clamp01), [0, 0, 128, 255, 255, 0])
    XCTAssertEqual(ImageGrid.grayLevels([-0.2, 0, 0.2], scaling: .minMax), [0, 128, 255])
    XCTAssertEqual(ImageGrid.grayLevels([0.3, 0.3], scaling: .minMax), [77, 77])
    // Any square side, with rows of different lengths.
    let grid = try ImageGrid(
      title: "", rows: [(label: "", images: [[0, 1, 1, 0], [1, 1, 1, 1]]), (label: "", images: [[1, 0, 0, 1]])], scale: 2,
      separator: 1)
    XCTAssertEqual(grid.side, 2)
    XCTAssertEqual(grid.layout.gridX, ImageGrid.margin)
    XCTAssertEqual(grid.layout.width, 2 * ImageGrid.margin + 2 * 4 + 1)
    XCTAssertEqual(grid.layout.height, 2 * ImageGrid.margin + 2 * 4 + 1)
    let image = try PNG.decode(grid.png())
    XCTAssertEqual(image.pixels[8 * image.width + 8], 0)
    XCTAssertEqual(image.pixels[8 * image.width + 10], 255)

    XCTAssertThrowsError(try ImageGrid(title: "x", rows: [(label: "a", images: [[0, 1, 2]])]))
    XCTAssertThrowsError(try ImageGrid(title: "x", rows: [(label: "a", images: [[0, 1, 2, 3], [0]])]))
    XCTAssertThrowsError(try ImageGrid(title: "x", rows: [(label: "a", images: [])]))
  }

  // MARK: - Files

  func testFilesAreWrittenAtomicallyByExtension() throws {
    let directory = try Self.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let panels = [Self.cosinePanel(title: "Eq. (24)"), Self.cosinePanel(title: "Eq. (25)", offset: -0.05)]
    try FigureRenderer.write(panels, to: directory + "/sub/figure2.svg", title: "Figure 2")
    try FigureRenderer.write(panels, to: directory + "/sub/figure2.png", title: "Figure 2")
    try FigureRenderer.write(panels, to: directory + "/sub/figure2.png", title: "Figure 2 again")  // replaces
    XCTAssertThrowsError(try FigureRenderer.write(panels, to: directory + "/figure2.pdf"))
    let grid = try ImageGrid(title: "t", rows: [(label: "a", images: [[Double](repeating: 0.5, count: 16)])])
    try grid.write(to: directory + "/grid.png")

    let listing = try FileManager.default.contentsOfDirectory(atPath: directory + "/sub").sorted()
    XCTAssertEqual(listing, ["figure2.png", "figure2.svg"], "no temporary files left behind")
    XCTAssertNoThrow(try SVGDocument(String(contentsOfFile: directory + "/sub/figure2.svg", encoding: .utf8)))
    let png = try PNG.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/sub/figure2.png"))))
    XCTAssertEqual(png.width, 2 * FigureRenderer.panelWidth)
    XCTAssertEqual(try PNG.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/grid.png")))).channels, 1)

    // Examples for a human to look at, on request.
    if let examples = ProcessInfo.processInfo.environment["GGEP_FIGURE_EXAMPLES"] {
      try FigureRenderer.write(panels, to: examples + "/figure2.svg", title: "Mean cosine similarity against m")
      try FigureRenderer.write(panels, to: examples + "/figure2.png", title: "Mean cosine similarity against m")
      try Self.cosinePanel(title: "Eq. (24)").write(to: examples + "/figure2-single.png")
      var auto = Self.cosinePanel(title: "Auto range: ρ_t − λ1 (± 1 s.d.)", offset: -0.55)
      auto.yRange = nil
      auto.yLabel = "|<u, v*>| − 0.5"
      auto.series[3].points = auto.series[3].points.map { LinePlot.Point(x: $0.x * 20, y: $0.y, error: $0.error) }
      try FigureRenderer.write([auto], to: examples + "/figure2-auto.png", width: 640, height: 420)
      try FigureRenderer.write([auto], to: examples + "/figure2-auto.svg", width: 640, height: 420)
      let digits = (0..<6).map { k in
        (0..<784).map { i -> Double in
          let x = Double(i % 28) - 13.5, y = Double(i / 28) - 13.5
          let r = (x * x + y * y).squareRoot()
          return max(0, 1 - abs(r - 6 - Double(k)) / 2.5)
        }
      }
      let rows = ["Ground truth", "Rifle20", "Rifle100", "PPower", "PRFM"].enumerated().map { index, label in
        (label: label, images: digits.map { $0.map { v in v * (1 - 0.15 * Double(index)) } })
      }
      try ImageGrid(title: "Eq. (24), m = 200", rows: rows).write(to: examples + "/figure1.png")
      var sheet = RasterCanvas(width: 420, height: 150)
      let lines = [
        " !\"#$%&'()*+,-./0123456789:;<=>?", "@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_", "`abcdefghijklmnopqrstuvwxyz{|}~",
        "±×·–—≈≤≥°ηλρβσμ −‘’“”€",
      ]
      for (i, line) in lines.enumerated() {
        sheet.drawText(FigureDrawing.Text(line, at: FigurePoint(8, Double(24 + 32 * i)), scale: 2))
      }
      try FigureFile.write(sheet.png(), to: examples + "/font.png")
    }
  }
}

/// A flat view of an XML document, parsed with Foundation's XMLParser (so a malformed SVG
/// fails the test).
private struct SVGDocument {
  struct Element {
    var name: String
    var attributes: [String: String]
  }

  var elements: [Element] = []
  var texts: [String] = []
  var root: Element? { elements.first }

  init(_ text: String) throws {
    let delegate = Collector()
    let parser = XMLParser(data: Data(text.utf8))
    parser.delegate = delegate
    guard parser.parse() else {
      throw FigureError(path: "svg", message: "XML parse error: \(parser.parserError.map { "\($0)" } ?? "unknown")")
    }
    elements = delegate.elements
    texts = delegate.texts
  }

  private final class Collector: NSObject, XMLParserDelegate {
    var elements: [Element] = []
    var texts: [String] = []
    var currentText: String?

    func parser(
      _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
      attributes: [String: String] = [:]
    ) {
      elements.append(Element(name: elementName, attributes: attributes))
      if elementName == "text" { currentText = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
      currentText? += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
      if elementName == "text", let text = currentText {
        texts.append(text)
        currentText = nil
      }
    }
  }
}

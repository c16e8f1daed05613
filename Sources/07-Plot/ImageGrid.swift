import Foundation
import GGEPCore

/// A grid of small grayscale images with row labels: the paper's Figure 1 (a row for the
/// ground truth and a row per method, a column per test image), written as PNG.
///
/// Images are square vectors (n = side², row-major, any side), shown pixel for pixel
/// (nearest-neighbour upscaling by an integer factor, never smoothed), so what the figure
/// shows is exactly the vector the run produced. Value 1 is white, as in MNIST.
public struct ImageGrid: Sendable {
  /// How values become gray levels.
  public enum Scaling: Sendable {
    /// Values are clamped to [0, 1]: images comparable across cells (a reconstruction that is
    /// too faint looks faint).
    case clamp01
    /// Each image is rescaled to its own [min, max] first: shows the shape of reconstructions
    /// whose scale is arbitrary (unit-norm eigenvectors, sign-aligned or not).
    case minMax
  }

  public struct Row: Sendable {
    public var label: String
    public var images: [[Double]]
    public init(label: String, images: [[Double]]) {
      self.label = label
      self.images = images
    }
  }

  /// Where everything goes, in pixels; public so callers (and tests) can find a cell.
  public struct Layout: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// Left edge of the first column: the outer margin, the widest row label, and a gap.
    public var gridX: Int
    /// Top edge of the first row: the outer margin and the title band.
    public var gridY: Int
    /// Side of one upscaled cell.
    public var cell: Int
    public var separator: Int

    public func cellOrigin(row: Int, column: Int) -> (x: Int, y: Int) {
      (gridX + column * (cell + separator), gridY + row * (cell + separator))
    }
  }

  public var title: String
  public var rows: [Row]
  /// Upscaling factor (each image pixel becomes scale × scale pixels).
  public var scale: Int
  public var scaling: Scaling
  /// Gap between cells, in pixels.
  public var separator: Int
  /// Side of every image (e.g. 28 for MNIST).
  public let side: Int

  public static let margin = 8
  public static let textScale = 2
  package static let labelGap = 10

  /// Throws when an image is not square, images differ in size, or there is nothing to show.
  public init(title: String, rows: [Row], scale: Int = 3, scaling: Scaling = .clamp01, separator: Int = 2) throws {
    guard scale >= 1 else { throw FigureError(path: "", message: "image grid \"\(title)\": scale must be ≥ 1, got \(scale)") }
    guard separator >= 0 else { throw FigureError(path: "", message: "image grid \"\(title)\": separator must be ≥ 0") }
    guard let first = rows.lazy.flatMap(\.images).first else {
      throw FigureError(path: "", message: "image grid \"\(title)\": no images")
    }
    let side = Int(Double(first.count).squareRoot().rounded())
    guard side > 0, side * side == first.count else {
      throw FigureError(path: "", message: "image grid \"\(title)\": an image has \(first.count) values, not a square number")
    }
    for (r, row) in rows.enumerated() {
      for (c, image) in row.images.enumerated() where image.count != first.count {
        throw FigureError(
          path: "", message: "image grid \"\(title)\": row \(r) (\(row.label)) image \(c) has \(image.count) values, expected \(first.count)")
      }
    }
    self.title = title
    self.rows = rows
    self.scale = scale
    self.scaling = scaling
    self.separator = separator
    self.side = side
  }

  public init(
    title: String, rows: [(label: String, images: [[Double]])], scale: Int = 3, scaling: Scaling = .clamp01,
    separator: Int = 2
  ) throws {
    try self.init(
      title: title, rows: rows.map { Row(label: $0.label, images: $0.images) }, scale: scale, scaling: scaling,
      separator: separator)
  }

  public var columns: Int { rows.map(\.images.count).max() ?? 0 }

  public var layout: Layout {
    let margin = Self.margin
    let labelWidth = rows.map { BitmapFont.width($0.label, scale: Self.textScale) }.max() ?? 0
    let gridX = margin + (labelWidth > 0 ? labelWidth + Self.labelGap : 0)
    let titleBand = title.isEmpty ? 0 : (BitmapFont.ascent + BitmapFont.descent) * Self.textScale + 8
    let gridY = margin + titleBand
    let cell = side * scale
    let gridWidth = columns * cell + max(0, columns - 1) * separator
    let gridHeight = rows.count * cell + max(0, rows.count - 1) * separator
    let titleWidth = BitmapFont.width(title, scale: Self.textScale) + 1  // bold adds a pixel
    let width = max(gridX + gridWidth + margin, titleWidth + 2 * margin)
    return Layout(
      width: width, height: gridY + gridHeight + margin, gridX: gridX, gridY: gridY, cell: cell, separator: separator)
  }

  /// Gray levels 0…255 of one image under `scaling`; non-finite values are black.
  public static func grayLevels(_ image: [Double], scaling: Scaling) -> [UInt8] {
    var values = image.map { $0.isFinite ? $0 : 0 }
    if scaling == .minMax, let lo = values.min(), let hi = values.max(), hi > lo {
      values = values.map { ($0 - lo) / (hi - lo) }
    }
    return values.map { UInt8((min(max($0, 0), 1) * 255).rounded()) }
  }

  public func canvas() -> RasterCanvas {
    let layout = self.layout
    var canvas = RasterCanvas(width: layout.width, height: layout.height)
    if !title.isEmpty {
      let titleWidth = Double(BitmapFont.width(title, scale: Self.textScale))
      let gridCentre = Double(layout.gridX) + Double(layout.width - Self.margin - layout.gridX) / 2
      let x = min(max(gridCentre, titleWidth / 2 + Double(Self.margin)), Double(layout.width) - titleWidth / 2 - Double(Self.margin))
      canvas.drawText(FigureDrawing.Text(
        title, at: FigurePoint(x.rounded(), Double(Self.margin + BitmapFont.ascent * Self.textScale)),
        scale: Self.textScale, anchor: .middle, bold: true))
    }
    for (r, row) in rows.enumerated() {
      let origin = layout.cellOrigin(row: r, column: 0)
      let baseline = origin.y + layout.cell / 2 + BitmapFont.ascent * Self.textScale / 2
      canvas.drawText(FigureDrawing.Text(
        row.label, at: FigurePoint(Double(layout.gridX - Self.labelGap), Double(baseline)), scale: Self.textScale, anchor: .end))
      for (c, image) in row.images.enumerated() {
        let (x0, y0) = layout.cellOrigin(row: r, column: c)
        let levels = Self.grayLevels(image, scaling: scaling)
        for y in 0..<layout.cell {
          for x in 0..<layout.cell {
            canvas.set(x: x0 + x, y: y0 + y, color: FigureColor(gray: levels[(y / scale) * side + x / scale]))
          }
        }
      }
    }
    return canvas
  }

  /// Grayscale PNG bytes.
  public func png() -> [UInt8] { canvas().png() }

  /// Writes the PNG atomically.
  public func write(to path: String) throws { try FigureFile.write(png(), to: path) }
}

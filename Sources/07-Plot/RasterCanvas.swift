import Foundation
import GGEPCore

/// An 8-bit RGB pixel buffer with anti-aliased drawing: the PNG back end of `FigureDrawing`.
///
/// Anti-aliasing is by coverage rather than supersampling: each pixel's coverage by a shape
/// is estimated from the distance of its centre to the shape's edge (exact for the common
/// horizontal and vertical 1-px lines placed on pixel centres, which therefore stay crisp),
/// and the colour is blended in by that coverage. A polyline's coverage is the maximum over
/// its segments, so joins are not blended twice.
public struct RasterCanvas: Sendable {
  public let width: Int
  public let height: Int
  /// Row-major RGB, 3 bytes per pixel.
  public private(set) var pixels: [UInt8]
  /// Drawing outside this rectangle (pixel coordinates, half-open) is discarded.
  private var clip: (x0: Int, y0: Int, x1: Int, y1: Int)

  public init(width: Int, height: Int, background: FigureColor = .white) {
    precondition(width > 0 && height > 0, "RasterCanvas: empty size \(width)×\(height)")
    self.width = width
    self.height = height
    pixels = [UInt8](repeating: 0, count: width * height * 3)
    for i in 0..<(width * height) {
      pixels[3 * i] = background.red
      pixels[3 * i + 1] = background.green
      pixels[3 * i + 2] = background.blue
    }
    clip = (0, 0, width, height)
  }

  public func color(x: Int, y: Int) -> FigureColor {
    let i = (y * width + x) * 3
    return FigureColor(red: pixels[i], green: pixels[i + 1], blue: pixels[i + 2])
  }

  /// The canvas as PNG bytes: grayscale when every pixel is gray (a third of the data),
  /// RGB otherwise.
  public func png() -> [UInt8] {
    var isGray = true
    for i in stride(from: 0, to: pixels.count, by: 3) where pixels[i] != pixels[i + 1] || pixels[i] != pixels[i + 2] {
      isGray = false
      break
    }
    if isGray {
      let gray = (0..<(width * height)).map { pixels[3 * $0] }
      return PNG.encode(width: width, height: height, channels: 1, pixels: gray)
    }
    return PNG.encode(width: width, height: height, channels: 3, pixels: pixels)
  }

  // MARK: - Blending

  @inline(__always)
  public mutating func blend(x: Int, y: Int, color: FigureColor, coverage: Double) {
    guard coverage > 0, x >= clip.x0, x < clip.x1, y >= clip.y0, y < clip.y1 else { return }
    let a = min(coverage, 1)
    let i = (y * width + x) * 3
    pixels[i] = mix(pixels[i], color.red, a)
    pixels[i + 1] = mix(pixels[i + 1], color.green, a)
    pixels[i + 2] = mix(pixels[i + 2], color.blue, a)
  }

  @inline(__always)
  private func mix(_ under: UInt8, _ over: UInt8, _ alpha: Double) -> UInt8 {
    UInt8((Double(under) * (1 - alpha) + Double(over) * alpha).rounded())
  }

  /// Sets a pixel outright (no blending), e.g. for images copied in cell by cell.
  public mutating func set(x: Int, y: Int, color: FigureColor) {
    guard x >= 0, x < width, y >= 0, y < height else { return }
    let i = (y * width + x) * 3
    pixels[i] = color.red
    pixels[i + 1] = color.green
    pixels[i + 2] = color.blue
  }

  /// Runs `body` with drawing restricted to `rect` (intersected with the current clip).
  public mutating func withClip(_ rect: FigureRect, _ body: (inout RasterCanvas) -> Void) {
    let saved = clip
    clip = (
      max(saved.x0, Int(rect.x.rounded(.down))), max(saved.y0, Int(rect.y.rounded(.down))),
      min(saved.x1, Int(rect.maxX.rounded(.up))), min(saved.y1, Int(rect.maxY.rounded(.up)))
    )
    body(&self)
    clip = saved
  }

  /// A coverage mask over the pixels of `bounds` (clipped to the canvas), filled by `body`
  /// and then blended in once.
  private mutating func paint(
    color: FigureColor, minX: Double, minY: Double, maxX: Double, maxY: Double,
    _ body: (_ mask: inout CoverageMask) -> Void
  ) {
    let x0 = max(clip.x0, Int((minX - 1).rounded(.down)))
    let y0 = max(clip.y0, Int((minY - 1).rounded(.down)))
    let x1 = min(clip.x1, Int((maxX + 1).rounded(.up)) + 1)
    let y1 = min(clip.y1, Int((maxY + 1).rounded(.up)) + 1)
    guard x0 < x1, y0 < y1 else { return }
    var mask = CoverageMask(x0: x0, y0: y0, width: x1 - x0, height: y1 - y0)
    body(&mask)
    for y in 0..<mask.height {
      for x in 0..<mask.width {
        let c = mask.values[y * mask.width + x]
        if c > 0 { blend(x: x0 + x, y: y0 + y, color: color, coverage: Double(c)) }
      }
    }
  }

  // MARK: - Strokes

  public mutating func strokeLine(from a: FigurePoint, to b: FigurePoint, _ stroke: FigureStroke) {
    strokePolyline([a, b], stroke)
  }

  public mutating func strokePolyline(_ points: [FigurePoint], _ stroke: FigureStroke, closed: Bool = false) {
    guard points.count >= 2, stroke.width > 0 else { return }
    var path = points
    if closed { path.append(points[0]) }
    let pieces = stroke.dash.isEmpty ? [path] : Self.dashed(path, pattern: stroke.dash)
    let halfWidth = stroke.width / 2
    let pad = halfWidth + 1
    let xs = path.map(\.x), ys = path.map(\.y)
    paint(color: stroke.color, minX: xs.min()! - pad, minY: ys.min()! - pad, maxX: xs.max()! + pad, maxY: ys.max()! + pad) {
      mask in
      for piece in pieces {
        for i in 0..<(piece.count - 1) {
          // Butt caps only at the ends of a piece; inside a piece, segments meet round.
          let capStart = stroke.cap == .round || i > 0
          let capEnd = stroke.cap == .round || i < piece.count - 2
          mask.addSegment(piece[i], piece[i + 1], halfWidth: halfWidth, roundStart: capStart, roundEnd: capEnd)
        }
      }
    }
  }

  /// Splits a path into its dashes: `pattern` alternates on and off lengths along the path.
  package static func dashed(_ path: [FigurePoint], pattern: [Double]) -> [[FigurePoint]] {
    let pattern = pattern.count % 2 == 0 ? pattern : pattern + pattern
    guard pattern.allSatisfy({ $0 >= 0 }), pattern.reduce(0, +) > 0 else { return [path] }
    var pieces: [[FigurePoint]] = []
    var index = 0
    var left = pattern[0]
    var current: [FigurePoint] = [path[0]]
    for i in 0..<(path.count - 1) {
      var a = path[i]
      let b = path[i + 1]
      var segment = hypot(b.x - a.x, b.y - a.y)
      while segment > 0 {
        let step = min(left, segment)
        let t = step / segment
        let p = FigurePoint(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t)
        if index % 2 == 0 { current.append(p) }
        a = p
        segment -= step
        left -= step
        if left <= 1e-9 {
          if index % 2 == 0 {
            if current.count >= 2 { pieces.append(current) }
            current = []
          } else {
            current = [p]
          }
          index = (index + 1) % pattern.count
          left = pattern[index]
        }
      }
    }
    if index % 2 == 0, current.count >= 2 { pieces.append(current) }
    return pieces
  }

  // MARK: - Fills

  public mutating func fillCircle(center: FigurePoint, radius: Double, color: FigureColor) {
    paint(color: color, minX: center.x - radius, minY: center.y - radius, maxX: center.x + radius, maxY: center.y + radius) {
      mask in
      mask.update { x, y in radius + 0.5 - hypot(x - center.x, y - center.y) }
    }
  }

  public mutating func strokeCircle(center: FigurePoint, radius: Double, _ stroke: FigureStroke) {
    let outer = radius + stroke.width / 2
    paint(color: stroke.color, minX: center.x - outer, minY: center.y - outer, maxX: center.x + outer, maxY: center.y + outer) {
      mask in
      mask.update { x, y in stroke.width / 2 + 0.5 - abs(hypot(x - center.x, y - center.y) - radius) }
    }
  }

  /// Exact area coverage, so rectangles on pixel boundaries have sharp edges.
  public mutating func fillRect(_ rect: FigureRect, color: FigureColor) {
    paint(color: color, minX: rect.x, minY: rect.y, maxX: rect.maxX, maxY: rect.maxY) { mask in
      mask.update { x, y in
        let cx = min(x + 0.5, rect.maxX) - max(x - 0.5, rect.x)
        let cy = min(y + 0.5, rect.maxY) - max(y - 0.5, rect.y)
        return cx > 0 && cy > 0 ? cx * cy : 0
      }
    }
  }

  /// Even-odd fill, 4 × 4 samples per pixel.
  public mutating func fillPolygon(_ points: [FigurePoint], color: FigureColor) {
    guard points.count >= 3 else { return }
    let xs = points.map(\.x), ys = points.map(\.y)
    paint(color: color, minX: xs.min()!, minY: ys.min()!, maxX: xs.max()!, maxY: ys.max()!) { mask in
      mask.update { x, y in
        var inside = 0
        for sy in 0..<4 {
          for sx in 0..<4 {
            let px = x - 0.5 + (Double(sx) + 0.5) / 4, py = y - 0.5 + (Double(sy) + 0.5) / 4
            if Self.contains(points, px, py) { inside += 1 }
          }
        }
        return Double(inside) / 16
      }
    }
  }

  private static func contains(_ polygon: [FigurePoint], _ x: Double, _ y: Double) -> Bool {
    var inside = false
    var j = polygon.count - 1
    for i in 0..<polygon.count {
      let a = polygon[i], b = polygon[j]
      if (a.y > y) != (b.y > y), x < (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x { inside.toggle() }
      j = i
    }
    return inside
  }

  // MARK: - Text

  /// Draws `text` with the bitmap font; its origin is snapped to whole pixels so glyphs stay
  /// sharp.
  public mutating func drawText(_ text: FigureDrawing.Text) {
    let width = Double(BitmapFont.width(text.string, scale: text.scale) + (text.bold ? 1 : 0))
    let shift: Double
    switch text.anchor {
    case .start: shift = 0
    case .middle: shift = width / 2
    case .end: shift = width
    }
    let ox = Int(text.position.x.rounded())
    let oy = Int(text.position.y.rounded())
    let s = text.scale
    var pen = -Int(shift.rounded())
    for character in text.string {
      let rows = BitmapFont.glyph(character)
      for (row, bits) in rows.enumerated() where bits != 0 {
        for column in 0..<BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - column)) != 0 {
          // The font pixel's box relative to the origin, in the unrotated frame (y down).
          let dx = pen + column * s
          let dy = (row - BitmapFont.ascent) * s
          for b in 0..<(text.bold ? 2 : 1) {
            for u in 0..<s {
              for v in 0..<s {
                if text.vertical {
                  // Rotated 90° counter-clockwise: (dx, dy) ↦ (dy, −dx).
                  blend(x: ox + dy + v, y: oy - (dx + b + u) - 1, color: text.color, coverage: 1)
                } else {
                  blend(x: ox + dx + b + u, y: oy + dy + v, color: text.color, coverage: 1)
                }
              }
            }
          }
        }
      }
      pen += BitmapFont.advance * s
    }
  }

  // MARK: - Drawings

  /// Renders every item of `drawing` on top of the canvas.
  public mutating func draw(_ drawing: FigureDrawing) {
    for item in drawing.items { draw(item) }
  }

  public mutating func draw(_ item: FigureDrawing.Item) {
    switch item {
    case .line(let a, let b, let stroke, _):
      strokeLine(from: a, to: b, stroke)
    case .polyline(let points, let stroke, _):
      strokePolyline(points, stroke)
    case .polygon(let points, let fill, let stroke, _):
      if let fill { fillPolygon(points, color: fill) }
      if let stroke { strokePolyline(points, stroke, closed: true) }
    case .circle(let center, let radius, let fill, let stroke, _):
      if let fill { fillCircle(center: center, radius: radius, color: fill) }
      if let stroke { strokeCircle(center: center, radius: radius, stroke) }
    case .rect(let rect, let fill, let stroke, _):
      if let fill { fillRect(rect, color: fill) }
      if let stroke {
        let corners = [
          FigurePoint(rect.x, rect.y), FigurePoint(rect.maxX, rect.y), FigurePoint(rect.maxX, rect.maxY),
          FigurePoint(rect.x, rect.maxY),
        ]
        strokePolyline(corners, stroke, closed: true)
      }
    case .text(let text):
      drawText(text)
    case .clipped(let rect, let children):
      withClip(rect) { canvas in
        for child in children { canvas.draw(child) }
      }
    }
  }
}

extension FigureDrawing {
  /// The drawing rendered into a new canvas of its size.
  public func rasterize() -> RasterCanvas {
    var canvas = RasterCanvas(width: width, height: height, background: background)
    canvas.draw(self)
    return canvas
  }

  /// The drawing as PNG bytes.
  public func png() -> [UInt8] { rasterize().png() }
}

/// Per-pixel coverage of one shape over a window of the canvas.
private struct CoverageMask {
  package let x0: Int
  package let y0: Int
  package let width: Int
  package let height: Int
  package var values: [Float]

  package init(x0: Int, y0: Int, width: Int, height: Int) {
    self.x0 = x0
    self.y0 = y0
    self.width = width
    self.height = height
    values = [Float](repeating: 0, count: width * height)
  }

  /// Raises each pixel's coverage to `coverage(centre x, centre y)`, clamped to [0, 1].
  package mutating func update(_ coverage: (Double, Double) -> Double) {
    for y in 0..<height {
      for x in 0..<width {
        let c = coverage(Double(x0 + x) + 0.5, Double(y0 + y) + 0.5)
        if c > 0 {
          let i = y * width + x
          values[i] = max(values[i], Float(min(c, 1)))
        }
      }
    }
  }

  /// A thick segment: coverage falls off linearly over one pixel across the edge.
  package mutating func addSegment(_ a: FigurePoint, _ b: FigurePoint, halfWidth: Double, roundStart: Bool, roundEnd: Bool) {
    let dx = b.x - a.x, dy = b.y - a.y
    let length = hypot(dx, dy)
    let pad = halfWidth + 1
    let xa = max(x0, Int((min(a.x, b.x) - pad).rounded(.down)))
    let xb = min(x0 + width, Int((max(a.x, b.x) + pad).rounded(.up)) + 1)
    let ya = max(y0, Int((min(a.y, b.y) - pad).rounded(.down)))
    let yb = min(y0 + height, Int((max(a.y, b.y) + pad).rounded(.up)) + 1)
    guard xa < xb, ya < yb else { return }
    for py in ya..<yb {
      for px in xa..<xb {
        let cx = Double(px) + 0.5, cy = Double(py) + 0.5
        var coverage: Double
        if length < 1e-12 {
          guard roundStart || roundEnd else { continue }
          coverage = halfWidth + 0.5 - hypot(cx - a.x, cy - a.y)
        } else {
          let along = ((cx - a.x) * dx + (cy - a.y) * dy) / length
          let across = abs((cx - a.x) * dy - (cy - a.y) * dx) / length
          if along < 0 && roundStart {
            coverage = halfWidth + 0.5 - hypot(cx - a.x, cy - a.y)
          } else if along > length && roundEnd {
            coverage = halfWidth + 0.5 - hypot(cx - b.x, cy - b.y)
          } else {
            let acrossCoverage = min(1, halfWidth + 0.5 - across)
            // Butt ends: coverage along the segment fades over the pixel at each end.
            let startCoverage = roundStart ? 1 : min(1, along + 0.5)
            let endCoverage = roundEnd ? 1 : min(1, length - along + 0.5)
            coverage = min(acrossCoverage, 1) * max(0, min(startCoverage, endCoverage))
          }
        }
        if coverage > 0 {
          let i = (py - y0) * width + (px - x0)
          values[i] = max(values[i], Float(min(coverage, 1)))
        }
      }
    }
  }
}

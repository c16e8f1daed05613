import Foundation
import GGEPCore

/// An sRGB colour, 8 bits per channel.
public struct FigureColor: Sendable, Hashable {
  public var red: UInt8
  public var green: UInt8
  public var blue: UInt8

  public init(red: UInt8, green: UInt8, blue: UInt8) {
    self.red = red
    self.green = green
    self.blue = blue
  }

  /// `0xRRGGBB`.
  public init(hex: UInt32) {
    self.init(red: UInt8((hex >> 16) & 0xFF), green: UInt8((hex >> 8) & 0xFF), blue: UInt8(hex & 0xFF))
  }

  public init(gray: UInt8) { self.init(red: gray, green: gray, blue: gray) }

  /// `#rrggbb`, as SVG wants it.
  public var hexString: String {
    let digits = Array("0123456789abcdef")
    return "#" + String([red >> 4, red & 15, green >> 4, green & 15, blue >> 4, blue & 15].map { digits[Int($0)] })
  }

  public static let white = FigureColor(hex: 0xFFFFFF)
  public static let black = FigureColor(hex: 0x000000)

  /// The Okabe–Ito palette, ordered so that the first colours stay distinguishable under the
  /// common colour-vision deficiencies and in grayscale print; yellow, weak on white, is last.
  public static let okabeIto: [FigureColor] = [
    FigureColor(hex: 0x0072B2),  // blue
    FigureColor(hex: 0xD55E00),  // vermillion
    FigureColor(hex: 0x009E73),  // bluish green
    FigureColor(hex: 0xCC79A7),  // reddish purple
    FigureColor(hex: 0xE69F00),  // orange
    FigureColor(hex: 0x56B4E9),  // sky blue
    FigureColor(hex: 0x000000),  // black
    FigureColor(hex: 0xF0E442),  // yellow
  ]
}

public struct FigurePoint: Sendable, Equatable {
  public var x: Double
  public var y: Double
  public init(_ x: Double, _ y: Double) {
    self.x = x
    self.y = y
  }
}

public struct FigureRect: Sendable, Equatable {
  public var x: Double
  public var y: Double
  public var width: Double
  public var height: Double
  public init(x: Double, y: Double, width: Double, height: Double) {
    self.x = x
    self.y = y
    self.width = width
    self.height = height
  }
  public var maxX: Double { x + width }
  public var maxY: Double { y + height }
  public func insetBy(_ amount: Double) -> FigureRect {
    FigureRect(x: x + amount, y: y + amount, width: width - 2 * amount, height: height - 2 * amount)
  }
}

public struct FigureStroke: Sendable, Equatable {
  public enum Cap: Sendable { case butt, round }
  public var color: FigureColor
  public var width: Double
  /// Alternating on/off lengths in pixels; empty for a solid line.
  public var dash: [Double]
  public var cap: Cap

  public init(_ color: FigureColor, width: Double = 1, dash: [Double] = [], cap: Cap = .butt) {
    self.color = color
    self.width = width
    self.dash = dash
    self.cap = cap
  }
}

/// A figure as a list of primitives in pixel coordinates (origin top left, y down), so one
/// layout feeds two back ends: `svg()` for papers and `rasterize()` for PNGs that show the
/// same picture. Text positions are baselines, as in SVG.
public struct FigureDrawing: Sendable {
  public enum Anchor: Sendable { case start, middle, end }

  /// What an element is, for readers of the SVG (a `class`) and which series it belongs to
  /// (a `data-name`), so scripts and tests can find the data in the file.
  public struct Tag: Sendable, Equatable {
    public var role: String?
    public var name: String?
    public init(role: String? = nil, name: String? = nil) {
      self.role = role
      self.name = name
    }
  }

  public struct Text: Sendable {
    public var string: String
    public var position: FigurePoint
    /// Bitmap-font scale; the SVG font size is chosen to match its cap height.
    public var scale: Int
    public var anchor: Anchor
    public var color: FigureColor
    public var bold: Bool
    /// Rotated 90° counter-clockwise about `position` (reads bottom to top), for y labels.
    public var vertical: Bool

    public init(
      _ string: String, at position: FigurePoint, scale: Int = 2, anchor: Anchor = .start,
      color: FigureColor = .black, bold: Bool = false, vertical: Bool = false
    ) {
      self.string = string
      self.position = position
      self.scale = scale
      self.anchor = anchor
      self.color = color
      self.bold = bold
      self.vertical = vertical
    }
  }

  public indirect enum Item: Sendable {
    case line(FigurePoint, FigurePoint, FigureStroke, Tag)
    case polyline([FigurePoint], FigureStroke, Tag)
    case polygon([FigurePoint], fill: FigureColor?, stroke: FigureStroke?, Tag)
    case circle(center: FigurePoint, radius: Double, fill: FigureColor?, stroke: FigureStroke?, Tag)
    case rect(FigureRect, fill: FigureColor?, stroke: FigureStroke?, Tag)
    case text(Text)
    /// `items`, drawn only inside `rect`.
    case clipped(FigureRect, [Item])
  }

  public var width: Int
  public var height: Int
  public var background: FigureColor
  public var items: [Item]

  public init(width: Int, height: Int, background: FigureColor = .white, items: [Item] = []) {
    self.width = width
    self.height = height
    self.background = background
    self.items = items
  }

  /// SVG font size for a bitmap scale: sans-serif capitals are about 0.72 em tall, so this
  /// matches the bitmap's cap height, and such text is no wider than the bitmap's.
  package static func svgFontSize(scale: Int) -> Double { Double(BitmapFont.ascent * scale) / 0.72 }
}

// MARK: - SVG

extension FigureDrawing {
  /// A standalone SVG document (no external resources), white background included.
  public func svg() -> String {
    var out = """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(width)" height="\(height)" \
      viewBox="0 0 \(width) \(height)" font-family="Helvetica, Arial, 'DejaVu Sans', sans-serif">

      """
    let page = FigureRect(x: 0, y: 0, width: Double(width), height: Double(height))
    out += Self.element("rect", [("class", "background")] + Self.geometry(page) + [("fill", background.hexString)])
    var clipCount = 0
    for item in items { Self.appendSVG(item, to: &out, clipCount: &clipCount) }
    out += "</svg>\n"
    return out
  }

  private typealias Attributes = [(String, String)]

  private static func appendSVG(_ item: Item, to out: inout String, clipCount: inout Int) {
    switch item {
    case .line(let a, let b, let stroke, let tag):
      let ends = [("x1", number(a.x)), ("y1", number(a.y)), ("x2", number(b.x)), ("y2", number(b.y))]
      out += element("line", tagged(tag) + ends + paint(fill: nil, stroke: stroke, filled: false, joins: false))
    case .polyline(let points, let stroke, let tag):
      out += element(
        "polyline", tagged(tag) + [("points", pointList(points))] + paint(fill: nil, stroke: stroke, filled: true, joins: true))
    case .polygon(let points, let fill, let stroke, let tag):
      out += element(
        "polygon", tagged(tag) + [("points", pointList(points))] + paint(fill: fill, stroke: stroke, filled: true, joins: true))
    case .circle(let center, let radius, let fill, let stroke, let tag):
      let shape = [("cx", number(center.x)), ("cy", number(center.y)), ("r", number(radius))]
      out += element("circle", tagged(tag) + shape + paint(fill: fill, stroke: stroke, filled: true, joins: false))
    case .rect(let rect, let fill, let stroke, let tag):
      out += element("rect", tagged(tag) + geometry(rect) + paint(fill: fill, stroke: stroke, filled: true, joins: false))
    case .text(let text):
      let anchor: String
      switch text.anchor {
      case .start: anchor = "start"
      case .middle: anchor = "middle"
      case .end: anchor = "end"
      }
      let x = number(text.position.x), y = number(text.position.y)
      var attributes: Attributes = [
        ("x", x), ("y", y), ("font-size", number(svgFontSize(scale: text.scale))), ("text-anchor", anchor),
        ("fill", text.color.hexString),
      ]
      if text.bold { attributes.append(("font-weight", "bold")) }
      if text.vertical { attributes.append(("transform", "rotate(-90 \(x) \(y))")) }
      out += element("text", attributes, content: text.string)
    case .clipped(let rect, let children):
      clipCount += 1
      let id = "clip\(clipCount)"
      out += "<clipPath id=\"\(id)\">" + element("rect", geometry(rect))
      out += "</clipPath>\n<g clip-path=\"url(#\(id))\">\n"
      for child in children { appendSVG(child, to: &out, clipCount: &clipCount) }
      out += "</g>\n"
    }
  }

  /// One element on its own line; attribute values and content are escaped here, once.
  private static func element(_ name: String, _ attributes: Attributes, content: String? = nil) -> String {
    let attributeText = attributes.map { " \($0.0)=\"\(xmlEscape($0.1))\"" }.joined()
    guard let content else { return "<\(name)\(attributeText)/>\n" }
    return "<\(name)\(attributeText)>\(xmlEscape(content))</\(name)>\n"
  }

  private static func tagged(_ tag: Tag) -> Attributes {
    (tag.role.map { [("class", $0)] } ?? []) + (tag.name.map { [("data-name", $0)] } ?? [])
  }

  private static func geometry(_ rect: FigureRect) -> Attributes {
    [("x", number(rect.x)), ("y", number(rect.y)), ("width", number(rect.width)), ("height", number(rect.height))]
  }

  /// Fill (`none` when absent, since SVG's default is black) for shapes that have an inside,
  /// and stroke; paths join round, as the raster back end draws them.
  private static func paint(fill: FigureColor?, stroke: FigureStroke?, filled: Bool, joins: Bool) -> Attributes {
    var result: Attributes = []
    if filled { result.append(("fill", fill?.hexString ?? "none")) }
    guard let stroke else { return result }
    result += [("stroke", stroke.color.hexString), ("stroke-width", number(stroke.width))]
    if !stroke.dash.isEmpty { result.append(("stroke-dasharray", stroke.dash.map(number).joined(separator: " "))) }
    if stroke.cap == .round { result.append(("stroke-linecap", "round")) }
    if joins { result.append(("stroke-linejoin", "round")) }
    return result
  }

  private static func pointList(_ points: [FigurePoint]) -> String {
    points.map { "\(number($0.x)),\(number($0.y))" }.joined(separator: " ")
  }

  /// Coordinates to two decimals without trailing zeros: exact enough at screen resolution,
  /// and it keeps the files small and diffable.
  package static func number(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    let rounded = (value * 100).rounded() / 100
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    var text = String(format: "%.2f", rounded)
    while text.hasSuffix("0") { text.removeLast() }
    return text
  }
}

extension FigureDrawing {
  /// Text made safe for XML content and attribute values: markup characters become entities,
  /// and control characters, which XML 1.0 forbids even as entities, are dropped.
  public static func xmlEscape(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.count)
    for character in text {
      switch character {
      case "&": result += "&amp;"
      case "<": result += "&lt;"
      case ">": result += "&gt;"
      case "\"": result += "&quot;"
      case "'": result += "&apos;"
      case "\t", "\n": result.append(character)
      default:
        if let scalar = character.unicodeScalars.first, character.unicodeScalars.count == 1,
          scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value)
        {
          continue
        }
        result.append(character)
      }
    }
    return result
  }
}

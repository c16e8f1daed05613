import Foundation
import GGEPCore

/// One panel of a line chart: the paper's Figure 2 (mean cosine similarity against m, a line
/// per method with error bars) for one problem. Render one or several side by side with
/// `FigureRenderer`.
public struct LinePlot: Sendable {
  public struct Point: Sendable, Equatable {
    public var x: Double
    public var y: Double
    /// Half-length of the error bar (e.g. one standard deviation); nil or 0 for none.
    public var error: Double?
    /// An asymmetric bar instead (e.g. the 25th to 75th percentile around a median).
    public var range: ClosedRange<Double>?
    /// A thin whisker beyond the bar (e.g. the 10th to 90th percentile).
    public var outer: ClosedRange<Double>?
    public init(x: Double, y: Double, error: Double? = nil, range: ClosedRange<Double>? = nil, outer: ClosedRange<Double>? = nil) {
      self.x = x
      self.y = y
      self.error = error
      self.range = range
      self.outer = outer
    }

    /// The whisker's ends, if it has one.
    var whisker: (low: Double, high: Double)? {
      guard let outer, outer.lowerBound.isFinite, outer.upperBound.isFinite, outer.upperBound > outer.lowerBound else { return nil }
      return (outer.lowerBound, outer.upperBound)
    }

    /// The bar's ends, if it has one.
    var bar: (low: Double, high: Double)? {
      if let range, range.lowerBound.isFinite, range.upperBound.isFinite, range.upperBound > range.lowerBound {
        return (range.lowerBound, range.upperBound)
      }
      guard let e = error, e.isFinite, e > 0 else { return nil }
      return (y - e, y + e)
    }
  }

  public struct Series: Sendable {
    /// Legend text; series with the same name in different panels share a style and one
    /// legend entry.
    public var name: String
    public var points: [Point]
    public init(name: String, points: [Point]) {
      self.name = name
      self.points = points
    }
  }

  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var series: [Series]
  /// The x axis's range; nil: nice bounds around the data.
  public var xRange: ClosedRange<Double>?
  /// The y axis's range (e.g. 0...1 for cosine similarity); nil: nice bounds around the data
  /// and its error bars. Anything outside a fixed range is clipped a few pixels beyond it.
  public var yRange: ClosedRange<Double>?
  /// A logarithmic x axis (for widths or dimensions swept over decades).
  public var xLogarithmic = false
  /// Method names that keep one colour slot in every figure of their kind (a series takes the
  /// slot of its name up to the first space or parenthesis); other names take free slots.
  public var pinnedStyles: [String: Int] = [:]

  public init(
    title: String, xLabel: String, yLabel: String, series: [Series],
    xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil, xLogarithmic: Bool = false
  ) {
    self.xLogarithmic = xLogarithmic
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.series = series
    self.xRange = xRange
    self.yRange = yRange
  }

  public init(
    title: String, xLabel: String, yLabel: String,
    series: [(name: String, points: [(x: Double, y: Double, error: Double?)])],
    xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil
  ) {
    self.init(
      title: title, xLabel: xLabel, yLabel: yLabel,
      series: series.map { Series(name: $0.name, points: $0.points.map { Point(x: $0.x, y: $0.y, error: $0.error) }) },
      xRange: xRange, yRange: yRange)
  }

  public func svg(width: Int? = nil, height: Int? = nil) -> String {
    FigureRenderer.svg([self], width: width, height: height)
  }

  public func png(width: Int? = nil, height: Int? = nil) -> [UInt8] {
    FigureRenderer.png([self], width: width, height: height)
  }

  /// Writes SVG or PNG, by the extension of `path`, atomically.
  public func write(to path: String, width: Int? = nil, height: Int? = nil) throws {
    try FigureRenderer.write([self], to: path, width: width, height: height)
  }
}

/// An axis with "nice" bounds and ticks (steps of 1, 2 or 5 times a power of ten).
public struct NiceAxis: Sendable, Equatable {
  public var lower: Double
  public var upper: Double
  public var step: Double
  public var ticks: [Double]
  /// Positions by log₁₀ (ticks at 1, 2, 5 × 10ᵏ); values must be positive.
  public var logarithmic = false

  /// A logarithmic axis around positive `values`: bounds 15% beyond them, ticks at 1, 2, 5 × 10ᵏ.
  public init(logarithmicValues values: [Double]) {
    let positive = values.filter { $0.isFinite && $0 > 0 }
    let (lo, hi) = (positive.min().map { $0 / 1.15 } ?? 1, positive.max().map { $0 * 1.15 } ?? 10)
    lower = lo
    upper = Swift.max(hi, lo * 1.5)
    step = 1
    logarithmic = true
    var ticks: [Double] = []
    var decade = pow(10, log10(lo).rounded(.down))
    while decade <= upper {
      for m in [1.0, 2, 5] where decade * m >= lower && decade * m <= upper { ticks.append(decade * m) }
      decade *= 10
    }
    self.ticks = ticks
  }

  /// Bounds that contain `values` (or exactly `fixed`), with about `targetTicks` intervals.
  public init(values: [Double], fixed: ClosedRange<Double>? = nil, targetTicks: Int = 5) {
    let finite = values.filter(\.isFinite)
    var lo: Double, hi: Double
    if let fixed, fixed.lowerBound.isFinite, fixed.upperBound.isFinite, fixed.upperBound > fixed.lowerBound {
      (lo, hi) = (fixed.lowerBound, fixed.upperBound)
    } else if let min = finite.min(), let max = finite.max() {
      (lo, hi) = (min, max)
      if hi - lo <= Swift.max(abs(hi), abs(lo)) * 1e-12 {
        let pad = lo == 0 ? 1 : abs(lo) * 0.1
        (lo, hi) = (lo - pad, hi + pad)
      }
    } else {
      (lo, hi) = (0, 1)
    }
    step = Self.niceStep((hi - lo) / Double(Swift.max(1, targetTicks)))
    if fixed == nil || !(fixed!.upperBound > fixed!.lowerBound) {
      lo = (lo / step).rounded(.down) * step
      hi = (hi / step).rounded(.up) * step
    }
    lower = lo
    upper = hi
    var ticks: [Double] = []
    let tolerance = step * 1e-9
    var k = (lo / step - 1e-9).rounded(.up)
    while k * step <= hi + tolerance {
      let tick = k * step
      ticks.append(abs(tick) < tolerance ? 0 : tick)
      k += 1
    }
    self.ticks = ticks
  }

  /// The smallest of 1, 2, 5, 10 × 10ᵏ that is at least `raw`.
  public static func niceStep(_ raw: Double) -> Double {
    guard raw.isFinite, raw > 0 else { return 1 }
    let magnitude = pow(10, (log10(raw)).rounded(.down))
    let fraction = raw / magnitude
    for nice in [1.0, 2, 5] where fraction <= nice * (1 + 1e-9) { return nice * magnitude }
    return 10 * magnitude
  }

  /// Tick labels with as many decimals as the step needs, all alike ("0.0", "0.5", "1.0").
  public func label(_ value: Double) -> String {
    if logarithmic { return String(format: "%g", value) }
    let decimals = Swift.max(0, -Int((log10(step) + 1e-9).rounded(.down)))
    let text = String(format: "%.\(decimals)f", value)
    return Double(text) == 0 ? String(format: "%.\(decimals)f", 0.0) : text
  }

  public func fraction(_ value: Double) -> Double {
    logarithmic ? log(value / lower) / log(upper / lower) : (value - lower) / (upper - lower)
  }
}

/// Lays out line plots (panels side by side, one shared legend below them) as a
/// `FigureDrawing`, and renders it to SVG or PNG.
public enum FigureRenderer {
  /// The look of the n-th distinct series name: a colour plus a marker shape and a dash
  /// pattern, so series stay apart in grayscale and for colour-blind readers.
  public struct SeriesStyle: Sendable {
    public enum Marker: Sendable, CaseIterable { case circle, square, triangle, diamond }
    public var color: FigureColor
    public var marker: Marker
    public var dash: [Double]

    public static func at(_ index: Int) -> SeriesStyle {
      let dashes: [[Double]] = [[], [9, 4], [2, 3.5], [9, 3, 2, 3]]
      return SeriesStyle(
        color: FigureColor.okabeIto[index % FigureColor.okabeIto.count],
        marker: Marker.allCases[index % Marker.allCases.count],
        dash: dashes[(index / Marker.allCases.count + index) % dashes.count])
    }

    /// A method's name without its variant (`PRFM η·λ1=0.4` → `PRFM`).
    static func method(of name: String) -> String {
      String(name.prefix { $0 != " " && $0 != "(" })
    }

    /// Styles for the series names of a figure: the colour (and marker) by method — a `pinned`
    /// method in its own slot, any other in the next free one — and the dash by the variant's
    /// place among its method's series (steps, settings), so that variants of one method read
    /// as one family.
    public static func styles(for names: [String], pinned: [String: Int] = [:]) -> [String: SeriesStyle] {
      let dashes: [[Double]] = [[], [9, 4], [2, 3.5], [9, 3, 2, 3]]
      var slots = pinned
      var variants: [String: Int] = [:]
      var styles: [String: SeriesStyle] = [:]
      for name in names where styles[name] == nil {
        let method = method(of: name)
        if slots[method] == nil {
          let used = Set(slots.values)
          slots[method] = (0..<FigureColor.okabeIto.count).first { !used.contains($0) } ?? slots.count
        }
        let slot = slots[method]!
        let variant = variants[method, default: 0]
        variants[method] = variant + 1
        styles[name] = SeriesStyle(
          color: FigureColor.okabeIto[slot % FigureColor.okabeIto.count],
          marker: Marker.allCases[(slot + variant / dashes.count) % Marker.allCases.count],
          dash: dashes[variant % dashes.count])
      }
      return styles
    }
  }

  public static let panelWidth = 520
  public static let defaultHeight = 440
  public static let rowHeight = 380

  /// Panels per row: all in one row up to four, else rows of three (nine problems read as a
  /// 3 × 3 grid rather than a strip too wide to print).
  public static func columns(forPanels count: Int) -> Int { count <= 4 ? max(1, count) : 3 }

  /// The figure as primitives. Width defaults to `panelWidth` per column, height to
  /// `defaultHeight` for one row and `rowHeight` more for each further row.
  ///
  /// A title too wide for the figure wraps onto more lines (it was clipped); a
  /// `caption` (what the points and error bars are) goes under the legend.
  public static func drawing(
    _ panels: [LinePlot], width: Int? = nil, height: Int? = nil, title: String? = nil, caption: String? = nil
  ) -> FigureDrawing {
    let columns = columns(forPanels: panels.count)
    let rows = max(1, (panels.count + columns - 1) / columns)
    let width = max(200, width ?? panelWidth * columns)
    let height = max(160, height ?? defaultHeight + rowHeight * (rows - 1))
    var drawing = FigureDrawing(width: width, height: height)

    let names = seriesNames(panels)
    let styles = SeriesStyle.styles(for: names, pinned: panels.reduce(into: [:]) { $0.merge($1.pinnedStyles) { first, _ in first } })
    let lineHeight = Double(textHeight + descentHeight + 4)
    let textWidth = width - 2 * padding

    var top = 0.0
    if let title, !title.isEmpty {
      for (i, line) in wrap(title, width: textWidth).enumerated() {
        top += i == 0 ? Double(padding + textHeight) : lineHeight
        drawing.items.append(.text(FigureDrawing.Text(line, at: FigurePoint(Double(width) / 2, top), scale: 2, anchor: .middle, bold: true)))
      }
      top += 4
    }
    let captionLines = caption.map { wrap($0, width: textWidth) } ?? []
    let captionHeight = captionLines.isEmpty ? 0 : Double(captionLines.count) * lineHeight + Double(padding) / 2
    for (i, line) in captionLines.enumerated() {
      let baseline = Double(height) - captionHeight + Double(i) * lineHeight + Double(textHeight)
      drawing.items.append(.text(FigureDrawing.Text(line, at: FigurePoint(Double(width) / 2, baseline), scale: textScale, anchor: .middle)))
    }
    let legend = legendLayout(names, width: width)
    let legendTop = Double(height) - legend.height - captionHeight

    let band = (legendTop - top) / Double(rows)
    for (index, panel) in panels.enumerated() {
      let (row, column) = index.quotientAndRemainder(dividingBy: columns)
      let x0 = Double(width * column / columns)
      let x1 = Double(width * (column + 1) / columns)
      let y0 = (top + band * Double(row)).rounded()
      let y1 = (top + band * Double(row + 1)).rounded()
      let frame = FigureRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
      drawing.items += panelItems(panel, in: frame, styles: styles)
    }
    drawing.items += legend.items(top: legendTop, styles: styles)
    return drawing
  }

  public static func svg(_ panels: [LinePlot], width: Int? = nil, height: Int? = nil, title: String? = nil, caption: String? = nil) -> String {
    drawing(panels, width: width, height: height, title: title, caption: caption).svg()
  }

  public static func png(_ panels: [LinePlot], width: Int? = nil, height: Int? = nil, title: String? = nil, caption: String? = nil) -> [UInt8] {
    drawing(panels, width: width, height: height, title: title, caption: caption).png()
  }

  /// Words of `text` in lines no wider than `width` pixels at the body scale.
  package static func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var current = ""
    for word in text.split(separator: " ") {
      let candidate = current.isEmpty ? String(word) : current + " " + word
      if !current.isEmpty, BitmapFont.width(candidate, scale: textScale) + 1 > width {
        lines.append(current)
        current = String(word)
      } else {
        current = candidate
      }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
  }

  /// Writes an `.svg` or `.png` file (chosen by the extension), atomically.
  public static func write(
    _ panels: [LinePlot], to path: String, width: Int? = nil, height: Int? = nil, title: String? = nil, caption: String? = nil
  ) throws {
    switch (path as NSString).pathExtension.lowercased() {
    case "svg": try FigureFile.write(svg(panels, width: width, height: height, title: title, caption: caption), to: path)
    case "png": try FigureFile.write(png(panels, width: width, height: height, title: title, caption: caption), to: path)
    default: throw FigureError(path: path, message: "unknown figure format; use .svg or .png")
    }
  }

  // MARK: - Layout

  package static let padding = 10
  package static let textScale = 2
  /// Cap height of text at `textScale`.
  package static let textHeight = BitmapFont.ascent * textScale
  package static let descentHeight = BitmapFont.descent * textScale
  package static let tickLength = 5.0
  package static let markerRadius = 5.0
  package static let lineWidth = 2.0
  package static let gridColor = FigureColor(hex: 0xE3E3E3)
  package static let axisColor = FigureColor(hex: 0x222222)

  /// Distinct series names in order of first appearance across panels.
  package static func seriesNames(_ panels: [LinePlot]) -> [String] {
    var seen = Set<String>()
    var names: [String] = []
    for panel in panels {
      for series in panel.series where seen.insert(series.name).inserted { names.append(series.name) }
    }
    return names
  }

  /// A pixel coordinate moved to a pixel centre, so 1-px lines are crisp in both back ends.
  package static func crisp(_ value: Double) -> Double { value.rounded(.down) + 0.5 }

  private static func panelItems(_ panel: LinePlot, in frame: FigureRect, styles: [String: SeriesStyle]) -> [FigureDrawing.Item] {
    var items: [FigureDrawing.Item] = []
    let points = panel.series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
    let xAxis = panel.xLogarithmic && points.allSatisfy({ $0.x > 0 })
      ? NiceAxis(logarithmicValues: points.map(\.x)) : NiceAxis(values: points.map(\.x), fixed: panel.xRange, targetTicks: 5)
    let yValues = points.flatMap { p -> [Double] in
      var values = [p.y]
      if let bar = p.bar { values += [bar.low, bar.high] }
      if let whisker = p.whisker { values += [whisker.low, whisker.high] }
      return values
    }
    let yAxis = NiceAxis(values: yValues, fixed: panel.yRange, targetTicks: 5)
    let xLabels = xAxis.ticks.map(xAxis.label)
    let yLabels = yAxis.ticks.map(yAxis.label)

    let scale = textScale
    let pad = Double(padding)
    // Vertical bands: panel title, plot, x tick labels, x label.
    var plotTop = frame.y + pad
    let titleBaseline = frame.y + pad + Double(textHeight)
    if !panel.title.isEmpty { plotTop = titleBaseline + Double(descentHeight) + 8 }
    plotTop += Double(textHeight) / 2  // room for the top y tick label
    let xLabelBaseline = frame.maxY - pad - Double(descentHeight)
    let xTickBaseline = panel.xLabel.isEmpty ? xLabelBaseline : xLabelBaseline - Double(textHeight + descentHeight) - 8
    let plotBottom = xTickBaseline - Double(textHeight) - 5 - tickLength

    // Horizontal bands: y label (rotated), y tick labels, plot.
    let yLabelBaseline = frame.x + pad + Double(textHeight)
    let yTickRight = (panel.yLabel.isEmpty ? frame.x + pad : yLabelBaseline + Double(descentHeight) + 8)
      + Double(yLabels.map { BitmapFont.width($0, scale: scale) }.max() ?? 0)
    let plotLeft = yTickRight + 5 + tickLength
    let lastXLabelHalf = Double(BitmapFont.width(xLabels.last ?? "", scale: scale)) / 2
    let plotRight = frame.maxX - max(pad + 6, lastXLabelHalf + 4)

    let plot = FigureRect(
      x: crisp(plotLeft), y: crisp(plotTop), width: crisp(plotRight) - crisp(plotLeft), height: crisp(plotBottom) - crisp(plotTop))
    func px(_ x: Double) -> Double { plot.x + xAxis.fraction(x) * plot.width }
    func py(_ y: Double) -> Double { plot.maxY - yAxis.fraction(y) * plot.height }

    if !panel.title.isEmpty {
      let centre = FigurePoint(((plot.x + plot.maxX) / 2).rounded(), titleBaseline)
      items.append(.text(FigureDrawing.Text(panel.title, at: centre, scale: scale, anchor: .middle, bold: true)))
    }

    // Grid, ticks and tick labels.
    let grid = FigureStroke(gridColor, width: 1)
    let axis = FigureStroke(axisColor, width: 1)
    for (tick, label) in zip(xAxis.ticks, xLabels) {
      let x = crisp(px(tick))
      items.append(.line(FigurePoint(x, plot.y), FigurePoint(x, plot.maxY), grid, .init(role: "grid")))
      items.append(.line(FigurePoint(x, plot.maxY), FigurePoint(x, plot.maxY + tickLength), axis, .init(role: "tick")))
      items.append(.text(FigureDrawing.Text(label, at: FigurePoint(x.rounded(), xTickBaseline), scale: scale, anchor: .middle)))
    }
    for (tick, label) in zip(yAxis.ticks, yLabels) {
      let y = crisp(py(tick))
      items.append(.line(FigurePoint(plot.x, y), FigurePoint(plot.maxX, y), grid, .init(role: "grid")))
      items.append(.line(FigurePoint(plot.x - tickLength, y), FigurePoint(plot.x, y), axis, .init(role: "tick")))
      let baseline = (y + Double(textHeight) / 2).rounded()
      items.append(.text(FigureDrawing.Text(label, at: FigurePoint(yTickRight, baseline), scale: scale, anchor: .end)))
    }
    items.append(.rect(plot, fill: nil, stroke: axis, .init(role: "axes")))
    if !panel.xLabel.isEmpty {
      items.append(.text(FigureDrawing.Text(panel.xLabel, at: FigurePoint(((plot.x + plot.maxX) / 2).rounded(), xLabelBaseline), scale: scale, anchor: .middle)))
    }
    if !panel.yLabel.isEmpty {
      items.append(.text(FigureDrawing.Text(
        panel.yLabel, at: FigurePoint(yLabelBaseline, ((plot.y + plot.maxY) / 2).rounded()), scale: scale, anchor: .middle, vertical: true)))
    }

    // Data, clipped a marker's width beyond the axes so points on the edge stay whole.
    var data: [FigureDrawing.Item] = []
    // Percentile bars of several series at one x would hide each other: with asymmetric bars,
    // each series is moved a few pixels sideways (symmetric error bars keep the exact x).
    let dodged = panel.series.contains { $0.points.contains { $0.range != nil || $0.outer != nil } }
    for (seriesIndex, series) in panel.series.enumerated() {
      let style = styles[series.name] ?? SeriesStyle.at(0)
      let shift = dodged ? (Double(seriesIndex) - Double(panel.series.count - 1) / 2) * 4 : 0
      func px(_ x: Double) -> Double { plot.x + xAxis.fraction(x) * plot.width + shift }
      let tag = FigureDrawing.Tag(role: "series", name: series.name)
      let sorted = series.points.enumerated()
        .sorted { ($0.element.x, $0.offset) < ($1.element.x, $1.offset) }
        .map(\.element)
        .filter { $0.x.isFinite && $0.y.isFinite }
      let errorStroke = FigureStroke(style.color, width: 1.5)
      for point in sorted {
        guard let whisker = point.whisker else { continue }
        let x = px(point.x)
        data.append(.line(FigurePoint(x, py(whisker.low)), FigurePoint(x, py(whisker.high)), FigureStroke(style.color, width: 0.75),
          FigureDrawing.Tag(role: "whisker", name: series.name)))
      }
      for point in sorted {
        guard let bar = point.bar else { continue }
        let x = px(point.x), low = py(bar.low), high = py(bar.high)
        let errorTag = FigureDrawing.Tag(role: "error-bar", name: series.name)
        data.append(.line(FigurePoint(x, low), FigurePoint(x, high), errorStroke, errorTag))
        for y in [low, high] {
          data.append(.line(FigurePoint(x - 4, y), FigurePoint(x + 4, y), errorStroke, errorTag))
        }
      }
      let stroke = FigureStroke(style.color, width: lineWidth, dash: style.dash, cap: style.dash.isEmpty ? .round : .butt)
      data.append(.polyline(sorted.map { FigurePoint(px($0.x), py($0.y)) }, stroke, tag))
      for point in sorted {
        data.append(marker(style, at: FigurePoint(px(point.x), py(point.y)), name: series.name))
      }
    }
    let margin = markerRadius + 3
    items.append(.clipped(plot.insetBy(-margin), data))
    return items
  }

  package static func marker(_ style: SeriesStyle, at p: FigurePoint, name: String?) -> FigureDrawing.Item {
    let r = markerRadius
    let tag = FigureDrawing.Tag(role: "marker", name: name)
    let outline = FigureStroke(.white, width: 1)
    switch style.marker {
    case .circle:
      return .circle(center: p, radius: r, fill: style.color, stroke: outline, tag)
    case .square:
      let s = r * 0.9
      return .rect(FigureRect(x: p.x - s, y: p.y - s, width: 2 * s, height: 2 * s), fill: style.color, stroke: outline, tag)
    case .triangle:
      let s = r * 1.25
      return .polygon(
        [FigurePoint(p.x, p.y - s), FigurePoint(p.x + s * 0.95, p.y + s * 0.65), FigurePoint(p.x - s * 0.95, p.y + s * 0.65)],
        fill: style.color, stroke: outline, tag)
    case .diamond:
      let s = r * 1.25
      return .polygon(
        [FigurePoint(p.x, p.y - s), FigurePoint(p.x + s, p.y), FigurePoint(p.x, p.y + s), FigurePoint(p.x - s, p.y)],
        fill: style.color, stroke: outline, tag)
    }
  }

  /// The shared legend: entries (a line sample with its marker, then the name) flow left to
  /// right in centred rows below the panels, where they can never hide data.
  package struct LegendLayout {
    var rows: [[(name: String, width: Double)]]
    var height: Double
    var figureWidth: Double
    static let sample = 30.0
    static let gap = 24.0
    static let rowHeight = Double(FigureRenderer.textHeight + FigureRenderer.descentHeight + 10)
    static let inset = 12.0

    static func rowWidth(_ row: [(name: String, width: Double)]) -> Double {
      row.reduce(0) { $0 + $1.width } + gap * Double(max(0, row.count - 1))
    }

    static func boxHeight(rows: Int) -> Double { Double(rows) * rowHeight + 8 }

    func items(top: Double, styles: [String: SeriesStyle]) -> [FigureDrawing.Item] {
      guard !rows.isEmpty else { return [] }
      var items: [FigureDrawing.Item] = []
      let boxWidth = (rows.map(Self.rowWidth).max()! + 2 * Self.inset).rounded()
      let box = FigureRect(x: crisp((figureWidth - boxWidth) / 2), y: crisp(top + 4), width: boxWidth, height: Self.boxHeight(rows: rows.count))
      items.append(.rect(box, fill: .white, stroke: FigureStroke(FigureColor(hex: 0xBBBBBB), width: 1), .init(role: "legend")))
      for (r, row) in rows.enumerated() {
        var x = ((figureWidth - Self.rowWidth(row)) / 2).rounded()
        let middle = (box.y + 4 + Double(r) * Self.rowHeight + Self.rowHeight / 2).rounded()
        for entry in row {
          let style = styles[entry.name] ?? SeriesStyle.at(0)
          let stroke = FigureStroke(style.color, width: FigureRenderer.lineWidth, dash: style.dash, cap: style.dash.isEmpty ? .round : .butt)
          let tag = FigureDrawing.Tag(role: "legend-sample", name: entry.name)
          items.append(.line(FigurePoint(x, middle), FigurePoint(x + Self.sample, middle), stroke, tag))
          items.append(FigureRenderer.marker(style, at: FigurePoint(x + Self.sample / 2, middle), name: entry.name))
          let baseline = middle + Double(FigureRenderer.textHeight / 2)
          items.append(.text(FigureDrawing.Text(entry.name, at: FigurePoint(x + Self.sample + 8, baseline), scale: FigureRenderer.textScale)))
          x += entry.width + Self.gap
        }
      }
      return items
    }
  }

  package static func legendLayout(_ names: [String], width: Int) -> LegendLayout {
    let available = Double(width) - 2 * Double(padding) - 2 * LegendLayout.inset
    var rows: [[(name: String, width: Double)]] = []
    var current: [(name: String, width: Double)] = []
    for name in names {
      let entry = (name: name, width: LegendLayout.sample + 8 + Double(BitmapFont.width(name, scale: textScale)))
      if !current.isEmpty, LegendLayout.rowWidth(current + [entry]) > available {
        rows.append(current)
        current = []
      }
      current.append(entry)
    }
    if !current.isEmpty { rows.append(current) }
    let height = rows.isEmpty ? 0 : 4 + LegendLayout.boxHeight(rows: rows.count) + Double(padding)
    return LegendLayout(rows: rows, height: height, figureWidth: Double(width))
  }
}

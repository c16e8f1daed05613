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

/// Steps given as η·λ1 (`eta_lambda1`), and the best-step report that compares methods each at
/// its cross-validated best step (the study in experiments/beyond-b-matters).
final class BestStepTests: GGEPTestCase {
  var fixture: ConfigFixture!
  override func setUpWithError() throws { fixture = try ConfigFixture() }
  override func tearDown() { fixture = nil }

  func out(_ name: String) -> String { fixture.directory.appendingPathComponent(name).path }

  // MARK: eta_lambda1 in configs

  func testEtaLambda1ParsesAndAbsoluteStepsKeepTheirKeys() throws {
    let scaled = try fixture.plan(ConfigFixture.minimal.replacingOccurrences(of: "kind: prfm", with: "kind: prfm\n  eta_lambda1: 0.4"))
    XCTAssertEqual(scaled.points[0].spec.algorithm.method, .prfm(eta: .perLambda1(0.4)))
    XCTAssertTrue(scaled.points[0].spec.canonicalJSON.contains("\"eta_lambda1\":0.4"), scaled.points[0].spec.canonicalJSON)
    XCTAssertFalse(scaled.points[0].spec.canonicalJSON.contains("\"eta\":"))

    // An absolute η encodes exactly as before the scaled form existed: `eta` alone, so every
    // earlier job key (and cached result) is unchanged.
    let absolute = try fixture.plan(ConfigFixture.minimal.replacingOccurrences(of: "kind: prfm", with: "kind: prfm\n  eta: 0.2"))
    let json = absolute.points[0].spec.canonicalJSON
    XCTAssertTrue(json.contains("\"algorithm\":{\"eta\":0.2,\"init\":\"ones\",\"iterations\":30,\"kind\":\"prfm\",\"tolerance\":1e-06}"), json)
    XCTAssertNotEqual(absolute.jobs[0].key, scaled.jobs[0].key)

    // Round trip through the spec's JSON (what results files store).
    let decoded = try JSONDecoder().decode(ExperimentSpec.self, from: Data(scaled.points[0].spec.canonicalJSON.utf8))
    XCTAssertEqual(decoded, scaled.points[0].spec)

    let rifle = try fixture.plan(
      ConfigFixture.minimal.replacingOccurrences(of: "kind: prfm", with: "kind: rifle\n  s: 5\n  eta_lambda1: 0.8"))
    XCTAssertEqual(rifle.points[0].spec.algorithm.method, .rifle(eta: .perLambda1(0.8), s: 5, etaPrime: nil))
  }

  func testEtaLambda1Errors() throws {
    assertConfigError(["exp.yaml:", "algorithm.eta_lambda1", "not both"]) {
      _ = try fixture.plan(ConfigFixture.minimal.replacingOccurrences(of: "kind: prfm", with: "kind: prfm\n  eta: 0.2\n  eta_lambda1: 0.4"))
    }
    assertConfigError(["algorithm.eta_lambda1", "must be > 0", "-1"]) {
      _ = try fixture.plan(ConfigFixture.minimal.replacingOccurrences(of: "kind: prfm", with: "kind: prfm\n  eta_lambda1: -1"))
    }
    assertConfigError(["algorithm.eta_lambda1", "unknown key for kind ppower"]) {
      _ = try fixture.plan(ConfigFixture.minimal.replacingOccurrences(of: "kind: prfm", with: "kind: ppower\n  eta_lambda1: 0.4"))
    }
  }

  /// GCCA's default η applies only when no step is given at all.
  func testGCCADefaultDoesNotOverrideEtaLambda1() throws {
    let config = """
      m: 100
      signal: {source: generator}
      generator: {product: [{kind: linear, n: 20, k: 3, seed: 1}, {kind: linear, n: 20, k: 3, seed: 2}]}
      problem: {kind: gcca, views: pair}
      algorithm: {kind: prfm, eta_lambda1: 0.1}

      """
    XCTAssertEqual(try fixture.plan(config).points[0].spec.algorithm.method, .prfm(eta: .perLambda1(0.1)))
    let defaulted = config.replacingOccurrences(of: ", eta_lambda1: 0.1", with: "")
    XCTAssertEqual(try fixture.plan(defaulted).points[0].spec.algorithm.method, .prfm(eta: .absolute(GCCADefaults.eta)))
  }

  // MARK: Solvers

  /// PRFM with η·λ1 = c takes exactly the step of PRFM with η = c/λ1; Rifle's η' is then c.
  func testScaledStepsEqualTheirAbsoluteSteps() throws {
    var rng = RandomStream(seed: 5, key: "scaled", purpose: "test")
    let v = normalized(rng.normals(30))!
    let pair = SpikedCovariancePair(beta: 2, covariance: .toeplitz(r: 0.5))
    let instance = pair.sample(signal: v, m: 80, rng: &rng)
    XCTAssertGreaterThan(instance.lambda1, 1)
    let u = normalized(rng.normals(30))!
    let au = instance.a.apply(u), bu = instance.b.apply(u)
    let rho = dot(u, au) / dot(u, bu)
    let c = 0.7
    let scaled = try PRFM(step: .perLambda1(c)).target(u: u, au: au, bu: bu, rho: rho, instance: instance)
    let absolute = try PRFM(eta: c / instance.lambda1).target(u: u, au: au, bu: bu, rho: rho, instance: instance)
    XCTAssertEqual(scaled, absolute)
    let rifleScaled = try Rifle(sparsity: 5, step: .perLambda1(c)).target(u: u, au: au, bu: bu, rho: rho, instance: instance)
    let rifleExplicit = try Rifle(sparsity: 5, eta: 0.2, etaPrime: c).target(u: u, au: au, bu: bu, rho: rho, instance: instance)
    XCTAssertEqual(rifleScaled, rifleExplicit)

    // Without a λ1 (user data) the scaled step cannot be formed: the job fails, it does not run with NaN.
    let unknown = ProblemInstance(a: instance.a, b: instance.b, signal: instance.signal, lambda1: .nan, lambda2: .nan)
    XCTAssertThrowsError(try PRFM(step: .perLambda1(c)).target(u: u, au: au, bu: bu, rho: rho, instance: unknown))
  }

  /// A run with η·λ1 steps records η = c/λ1 and η·λ1 = c per job, through HDF5 and back.
  func testRunRecordsBothStepColumns() throws {
    let plan = try fixture.plan("""
      name: scaled
      seed: 3
      m: 200
      signal: {source: generator, count: 2}
      generator: {kind: linear, n: 40, k: 4}
      problem: {kind: spiked, beta: 2, covariance: {kind: toeplitz, r: 0.5}}
      algorithm: {kind: ppower}
      sweep:
        algorithm: [{kind: ppower}, {kind: prfm, eta_lambda1: 0.4}, {kind: prfm, eta: 0.1}, {kind: rifle, s: 10, eta_lambda1: 0.8}]

      """)
    let summary = try ExperimentRunner(plan: plan, options: .init(jobs: 2, out: out("scaled"), progress: nil)).run()
    XCTAssertEqual(summary.failedJobs, 0)
    let records = try ResultsFile.read(summary.resultsPath, withVectors: false).records
    XCTAssertEqual(records.count, 8)
    for r in records {
      XCTAssertGreaterThan(r.lambda1, 1)
      switch r.sweepValues["algorithm"] ?? "" {
      case let s where s.contains("ppower"):
        XCTAssertTrue(r.eta.isNaN && r.etaLambda1.isNaN)
      case let s where s.contains("eta_lambda1: 0.4"):
        XCTAssertEqual(r.etaLambda1, 0.4)
        XCTAssertEqual(r.eta, 0.4 / r.lambda1)
      case let s where s.contains("eta: 0.1"):
        XCTAssertEqual(r.eta, 0.1)
        XCTAssertEqual(r.etaLambda1, 0.1 * r.lambda1)
      default:
        XCTAssertEqual(r.algorithm, "Rifle10")
        XCTAssertEqual(r.etaLambda1, 0.8)
      }
    }
    // λ1 = 1 + β v*ᵀΣv* differs between the two signals, so does the scaled η.
    let prfm = records.filter { $0.etaLambda1 == 0.4 }
    XCTAssertNotEqual(prfm[0].eta, prfm[1].eta)
    let table = try SummaryTable(records: records, groupBy: ["algorithm", "eta_lambda1"], spec: GEPKind.summary)
    // Grouping by η·λ1: one row each for PPower ("-"), PRFM 0.4 and Rifle 0.8; the absolute
    // η = 0.1 gives each signal its own η·λ1.
    XCTAssertEqual(table.rows.count, 5)
    for keys in [["PPower", "-"], ["PRFM", "0.4"], ["Rifle10", "0.8"]] {
      XCTAssertEqual(table.rows.first { $0.keys == keys }?.jobs, 2, "\(keys)")
    }
  }

  // MARK: Best-step selection

  /// Records with known cosines: method X has steps 1 and 2 whose merit depends on the signal
  /// (2 is better on even signals, 1 on odd ones), so cross-validation must pick 1 for the
  /// even fold (chosen on odd signals) and 2 for the odd fold.
  func knownRecords() throws -> [JobRecord] {
    let plan = try fixture.plan(ConfigFixture.minimal)
    let job = plan.jobs[0]
    var records: [JobRecord] = []
    func add(_ method: String, step: Double, signal: Int, m: Int, cosine: Double, failed: Bool = false) {
      var r = JobRecord.failed(job, reason: failed ? "boom" : "")
      r.algorithm = method
      r.problem = "p"
      r.eta = step.isNaN ? .nan : step / 3
      r.etaLambda1 = step
      r.lambda1 = 3
      r.signal = signal
      r.m = m
      r.planIndex = records.count
      r.status = failed ? .failed : .ok
      r.cosine = failed ? .nan : cosine
      records.append(r)
    }
    for m in [100, 200] {
      for signal in 0..<4 {
        let even = signal % 2 == 0
        add("X", step: 1, signal: signal, m: m, cosine: even ? 0.5 : 0.9)
        add("X", step: 2, signal: signal, m: m, cosine: even ? 0.6 : 0.4)
        add("P", step: .nan, signal: signal, m: m, cosine: 0.7)
        // Y: step 4 looks best where it runs, but fails on half its jobs (counted as 0).
        add("Y", step: 3, signal: signal, m: m, cosine: 0.6)
        add("Y", step: 4, signal: signal, m: m, cosine: 0.95, failed: signal < 2 && m == 100 || signal >= 2 && m == 200)
      }
    }
    return records
  }

  func testCrossValidatedChoiceNeverUsesItsOwnSignals() throws {
    let selection = try BestStepSelection(records: try knownRecords())
    XCTAssertTrue(selection.crossValidated)
    XCTAssertEqual(selection.folds, 2)
    let x = selection.lines.first { $0.method == "X" }!
    XCTAssertEqual(x.column, .etaLambda1)
    XCTAssertEqual(x.candidates, [1, 2])
    // Fold 0 (even signals) gets the step that is best on odd signals, and vice versa.
    XCTAssertEqual(x.foldChoices, [1, 2])
    XCTAssertEqual(x.inSampleChoice, 1)  // 0.7 against 0.5 on all signals
    XCTAssertTrue(x.selected.allSatisfy { ($0.signal % 2 == 0 && $0.etaLambda1 == 1) || ($0.signal % 2 == 1 && $0.etaLambda1 == 2) })
    XCTAssertEqual(x.selected.count, 8)
    // Honest numbers: each fold at the other fold's step scores 0.5 (even) and 0.4 (odd).
    XCTAssertEqual(SummaryTable.mean(x.selected.map(\.cosine)), 0.45, accuracy: 1e-12)

    let p = selection.lines.first { $0.method == "P" }!
    XCTAssertNil(p.column)
    XCTAssertEqual(p.selected.count, 8)

    // Failures count as 0 when choosing: step 4's mean over its jobs is 0.475 < 0.6.
    let y = selection.lines.first { $0.method == "Y" }!
    XCTAssertEqual(y.foldChoices, [3, 3])

    let table = selection.markdownTable()
    XCTAssertTrue(table.contains("| problem | method | η·λ1 chosen | m = 100 | m = 200 |"), table)
    XCTAssertTrue(table.contains("| p | X | 1 / 2 | 0.450 ± 0.058 | 0.450 ± 0.058 |"), table)
    XCTAssertTrue(table.contains("| p | P | – | 0.700 ± 0.000 | 0.700 ± 0.000 |"), table)
    XCTAssertTrue(table.contains("2-fold cross-validation over signals"), table)
    let steps = selection.sensitivityTable()
    XCTAssertTrue(steps.contains("| p | X | η·λ1 = 1 * | 0.700 ± 0.231 | 0.700 ± 0.231 | 0.700 |"), steps)
    XCTAssertTrue(steps.contains("| p | Y | η·λ1 = 4 | 0.950 ± 0.000 (2/4 failed) | 0.950 ± 0.000 (2/4 failed) | 0.475 |"), steps)
    let panels = selection.panels()
    XCTAssertEqual(panels.count, 1)
    XCTAssertEqual(panels[0].series.map(\.name), ["X", "P", "Y"])
    for point in panels[0].series[0].points { XCTAssertEqual(point.y, 0.45, accuracy: 1e-12) }
  }

  func testOneSignalChoosesInSampleAndSaysSo() throws {
    let records = try knownRecords().filter { $0.signal == 1 }
    let selection = try BestStepSelection(records: records)
    XCTAssertFalse(selection.crossValidated)
    let x = selection.lines.first { $0.method == "X" }!
    XCTAssertEqual(x.foldChoices, [1])
    XCTAssertTrue(selection.markdownTable().contains("in-sample"))
  }

  func testContinuousStepsAreRefused() throws {
    var records = try knownRecords()
    for i in records.indices where records[i].algorithm == "X" {
      records[i].eta = Double(i) * 0.001
      records[i].etaLambda1 = Double(i) * 0.003
    }
    XCTAssertThrowsError(try BestStepSelection(records: records)) { error in
      XCTAssertTrue("\(error)".contains("distinct step sizes"), "\(error)")
    }
  }

  /// Without --best-step, a method run at several steps gets a line per step (never pooled).
  func testDefaultReportSeparatesSteps() throws {
    let table = ResultReport.methodByM(try knownRecords())
    XCTAssertTrue(table.contains("| p | X η·λ1=1 | 0.700 ± 0.231 | 0.700 ± 0.231 |"), table)
    XCTAssertTrue(table.contains("| p | X η·λ1=2 |"), table)
    XCTAssertTrue(table.contains("| p | P | 0.700 ± 0.000 |"), table)
  }

  /// A method swept over something besides the step (here its iterations) is a line per
  /// setting, in both report modes, each with its own best step.
  func testOtherSweptSettingsAreNeverPooled() throws {
    var records = try knownRecords()
    let extra = records.filter { $0.algorithm == "X" }.map { r -> JobRecord in
      var r = r
      r.cosine = 0.99
      r.planIndex += 1000
      r.sweepValues = ["algorithm": "{kind: prfm, eta_lambda1: \(formatNumber(r.etaLambda1)), iterations: 300}", "m": String(r.m)]
      return r
    }
    for i in records.indices where records[i].algorithm == "X" {
      records[i].sweepValues = ["algorithm": "{kind: prfm, eta_lambda1: \(formatNumber(records[i].etaLambda1)), iterations: 100}", "m": String(records[i].m)]
    }
    records += extra
    let names = Set(ResultReport.methodVariants(records))
    XCTAssertEqual(names, ["X (iterations: 100)", "X (iterations: 300)", "P", "Y"])
    let selection = try BestStepSelection(records: records)
    XCTAssertEqual(selection.lines.map(\.method), ["X (iterations: 100)", "P", "Y", "X (iterations: 300)"])
    XCTAssertEqual(selection.lines[0].foldChoices, [1, 2])
    XCTAssertEqual(selection.lines[3].selected.count, 8)
    XCTAssertTrue(selection.lines[3].selected.allSatisfy { $0.cosine == 0.99 })
    let table = ResultReport.methodByM(records)
    XCTAssertTrue(table.contains("| p | X (iterations: 300) η·λ1=2 | 0.990 ± 0.000 | 0.990 ± 0.000 |"), table)
  }

  /// `ggep report --best-step` on a real file: table.md with the chosen steps, steps.md with
  /// every step, and a figure with one line per method.
  func testReportWithBestStep() throws {
    let plan = try fixture.plan("""
      name: best
      seed: 4
      m: 100
      signal: {source: generator, count: 4}
      generator: {kind: linear, n: 40, k: 4}
      problem: {kind: gfda, covariance: {kind: toeplitz, r: 0.5}}
      algorithm: {kind: ppower}
      sweep:
        algorithm: [{kind: ppower}, {kind: prfm, eta_lambda1: 0.1}, {kind: prfm, eta_lambda1: 0.5}]
        m: [60, 240]

      """)
    let summary = try ExperimentRunner(plan: plan, options: .init(jobs: 2, out: out("best"), progress: nil)).run()
    let files = try ResultReport.write(results: summary.resultsPath, to: out("best"), options: .init(bestStep: true))
    XCTAssertTrue(files.contains { $0.hasSuffix("steps.md") })
    let table = try String(contentsOfFile: out("best") + "/table.md", encoding: .utf8)
    XCTAssertTrue(table.contains("| gfda-toeplitz(r=0.5) | PRFM | "), table)
    let steps = try String(contentsOfFile: out("best") + "/steps.md", encoding: .utf8)
    XCTAssertTrue(steps.contains("η·λ1 = 0.1") && steps.contains("η·λ1 = 0.5"), steps)
    let svg = try String(contentsOfFile: out("best") + "/figure2.svg", encoding: .utf8)
    XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2, "one line per method")
  }

  /// Up to four panels in a row; more in rows of three, each row as tall as a one-row figure's plot.
  func testManyPanelsWrapIntoRowsOfThree() throws {
    XCTAssertEqual((1...9).map(FigureRenderer.columns(forPanels:)), [1, 2, 3, 4, 3, 3, 3, 3, 3])
    let panel = LinePlot(title: "t", xLabel: "m", yLabel: "c", series: [.init(name: "A", points: [.init(x: 1, y: 0.5)])], yRange: 0...1)
    let nine = FigureRenderer.drawing(Array(repeating: panel, count: 9))
    XCTAssertEqual(nine.width, 3 * FigureRenderer.panelWidth)
    XCTAssertEqual(nine.height, FigureRenderer.defaultHeight + 2 * FigureRenderer.rowHeight)
    let two = FigureRenderer.drawing(Array(repeating: panel, count: 2))
    XCTAssertEqual(two.width, 2 * FigureRenderer.panelWidth)
    XCTAssertEqual(two.height, FigureRenderer.defaultHeight)
    // Nine panel titles, on three distinct baselines.
    let titles = nine.items.compactMap { item -> Double? in
      if case .text(let text) = item, text.string == "t" { return text.position.y }
      return nil
    }
    XCTAssertEqual(titles.count, 9)
    XCTAssertEqual(Set(titles).count, 3)
  }

  // MARK: The study's configs

  /// Every config of the study plans (paths relative to the repository root, as `make beyond`
  /// runs them) and sweeps the steps it says it does.
  func testStudyConfigsPlan() throws {
    try Repository.withRootAsWorkingDirectory {
      let expected = ["eq24-sigma": (7680, 4), "gfda": (5760, 3), "gcca": (4560, 2), "population": (280, 7)]
      for (name, (jobs, problems)) in expected {
        let plan = try ExperimentPlan.load(path: "configs/beyond/\(name).yaml")
        XCTAssertEqual(plan.jobs.count, jobs, name)
        XCTAssertEqual(Set(plan.points.map(\.spec.problem.label)).count, problems, name)
        XCTAssertTrue(plan.points.allSatisfy { $0.spec.projection.mode == .cosine }, name)
        for point in plan.points {
          // PPower has no step; every other method's is given as η·λ1.
          if let step = point.spec.algorithm.method.step, case .absolute = step {
            return XCTFail("\(name): a step not given as η·λ1")
          }
        }
      }
    }
  }
}

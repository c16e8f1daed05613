import XCTest
@testable import GGEP
final class SmokeTests: XCTestCase { func testVersion() { XCTAssertFalse(GGEPVersion.semantic.isEmpty) } }

/// The library's semantic version; results record it with `git describe` (`BuildInfo`).
public enum GGEPVersion {
  public static let semantic = "0.1.0"
}

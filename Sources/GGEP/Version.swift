import _CBLAS
import _LAPACKE
import _HDF5
import _ZLib

/// The ggep library version; results files record `git describe` when available (see `Provenance`).
public enum GGEPVersion {
  public static let semantic = "0.1.0"
  static func linkCheck() -> (Int32, UInt) { (openblas_get_num_threads(), UInt(zlibVersion() != nil ? 1 : 0)) }
}

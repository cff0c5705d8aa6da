import Foundation
import Testing

/// The Python side of the Swift tests: the project's virtual environment (`.venv`, made by
/// `scripts/install-deps`, which `make test` runs) with botocore and the fake AWS's needs.
///
/// A plain `swift test` on a machine without it skips the suites that need it, saying how to run
/// them. `make test` sets `JOBCREDS_REQUIRE_VENV`, so there a missing `.venv` fails instead of
/// skipping quietly.
public enum PythonClients {
    /// The virtual environment's interpreter.
    public static let python = Fixtures.root.appendingPathComponent(".venv/bin/python3")

    /// Whether the suites that need `.venv` run.
    public static var enabled: Bool {
        FileManager.default.isExecutableFile(atPath: python.path)
            || ProcessInfo.processInfo.environment["JOBCREDS_REQUIRE_VENV"] != nil
    }

    /// The trait of a suite that needs `.venv`.
    public static let required = ConditionTrait.enabled(
        if: enabled,
        "needs .venv (botocore, the fake AWS): run `scripts/install-deps` once, or `make test`, which runs it")
}

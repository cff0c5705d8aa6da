import CodePipeline
import Foundation
import TestSupport
import Testing

@testable import JobWorker

/// README's table of the worker's metric families is `WorkerMetricFamily`, and that is what the
/// registry exposes.
@Suite struct WorkerMetricsTests {
    @Test func theTableIsTheEnumAndTheEnumIsWhatIsExposed() throws {
        let readme = try String(contentsOf: Fixtures.root.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex { $0 == "#### Worker metric families" })
        let rows = lines[(start + 1)...].drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }.dropFirst(2)
        let documented = rows.map { row in
            row.split(separator: "|")[0].trimmingCharacters(in: .whitespaces).trimmingCharacters(
                in: CharacterSet(charactersIn: "`"))
        }
        #expect(documented == WorkerMetricFamily.allCases.map(\.name))
        let metrics = WorkerMetrics(slots: 4)
        metrics.buildStarted()
        metrics.buildFinished(after: .seconds(3))
        metrics.reported(.failed, .jobFailed, attempts: 2)
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        let exposed = Set(
            text.split(separator: "\n").compactMap { line -> String? in
                line.hasPrefix("# TYPE ") ? String(line.split(separator: " ")[2]) : nil
            })
        #expect(exposed == Set(WorkerMetricFamily.allCases.map(\.name)))
        #expect(text.contains(#"jobcreds_worker_jobs_total{outcome="failed",failure_type="JobFailed"} 1"#))
        #expect(text.contains("jobcreds_worker_report_attempts_total 2"))
        #expect(text.contains("jobcreds_worker_slots 4"))
    }
}

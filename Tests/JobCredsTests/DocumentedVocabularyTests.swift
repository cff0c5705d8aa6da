import CodePipeline
import Foundation
import JobCreds
import TestSupport
import Testing

/// README's tables of error codes, audit events and metric families are the enums' lists: adding
/// a case without documenting it, or documenting one that does not exist, fails here.
@Suite struct DocumentedVocabularyTests {
    /// The backticked first cells of the first table after `heading`, in order.
    static func firstColumn(after heading: String) throws -> [String] {
        let readme = try String(contentsOf: Fixtures.root.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == heading }, "\(heading)")
        let table = lines[(start + 1)...].drop { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("|") }
            .prefix { $0.trimmingCharacters(in: .whitespaces).hasPrefix("|") }
        return table.dropFirst(2).compactMap { row in
            let cell = row.split(separator: "|", omittingEmptySubsequences: false)[1]
            let trimmed = cell.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("`"), trimmed.hasSuffix("`"), trimmed.count > 2 else { return nil }
            return String(trimmed.dropFirst().dropLast())
        }
    }

    @Test func theErrorCodeTableIsErrorCode() throws {
        let documented = try Self.firstColumn(after: "#### Error codes")
        #expect(documented == ErrorCode.allCases.map(\.rawValue))
    }

    @Test func theAuditEventTableIsAuditEvent() throws {
        let documented = try Self.firstColumn(after: "### The audit log")
        #expect(documented == AuditEvent.allCases.map(\.rawValue))
    }

    @Test func theMetricsTableIsMetricFamily() throws {
        let documented = try Self.firstColumn(after: "## Operate")
        #expect(documented == MetricFamily.allCases.map(\.name))
    }

    /// And the enum is what the registry exposes: every family, once the lazily made ones exist.
    @Test func metricFamilyIsWhatIsExposed() {
        let metrics = SidecarMetrics()
        metrics.upstream(
            UpstreamCall(operation: .getJobDetails, attempt: 1, outcome: .success, latency: .milliseconds(1)))
        let text = String(decoding: metrics.exposition(cache: CredentialCache(), now: Date()), as: UTF8.self)
        let exposed = text.split(separator: "\n").compactMap { line -> String? in
            line.hasPrefix("# TYPE ") ? String(line.split(separator: " ")[2]) : nil
        }
        #expect(Set(exposed) == Set(MetricFamily.allCases.map(\.name)))
        #expect(exposed.count == MetricFamily.allCases.count)
    }
}

import Artifacts
import Foundation
import TestSupport
import Testing

/// README's table of `artifacts` error codes is `ArtifactError.Code`, with each code's exit status.
@Suite struct DocumentedCodesTests {
    @Test func theArtifactCodeTableIsArtifactErrorCode() throws {
        let readme = try String(contentsOf: Fixtures.root.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex { $0 == "#### Artifact error codes" })
        let rows = lines[(start + 1)...].drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }.dropFirst(2)
        let documented = rows.map { row -> (String, String) in
            let cells = row.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            return (cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`")), cells[2])
        }
        #expect(documented.map(\.0) == ArtifactError.Code.allCases.map(\.rawValue))
        #expect(documented.map(\.1) == ArtifactError.Code.allCases.map { String($0.category.rawValue) })
    }
}

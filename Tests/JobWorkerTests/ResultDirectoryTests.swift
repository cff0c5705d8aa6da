import CodePipeline
import Foundation
import JobCreds
import Testing

@testable import JobWorker

/// What the build leaves is hostile: only regular files of its user, of bounded size, through
/// no symbolic link, and output variables CodePipeline takes.
@Suite struct ResultDirectoryTests {
    static func workspace() throws -> String {
        let path = NSTemporaryDirectory() + "result-\(UUID().uuidString)"
        try FileManager.default.createDirectory(
            atPath: path + "/" + ResultDirectory.name, withIntermediateDirectories: true)
        return path
    }

    @Test func readsWhatIsThereAndNothingWhenEmpty() throws {
        let path = try Self.workspace()
        #expect(try ResultDirectory(workspace: path, owner: nil).read() == .init(outputVariables: [:]))
        try "built it\n\n".write(toFile: path + "/.jobcreds-result/summary", atomically: false, encoding: .utf8)
        try #"{"A":"1","b@-_":"2"}"#.write(
            toFile: path + "/.jobcreds-result/output-variables.json", atomically: false, encoding: .utf8)
        let contents = try ResultDirectory(workspace: path, owner: nil).read()
        #expect(
            contents == .init(summary: "built it", externalExecutionId: nil, outputVariables: ["A": "1", "b@-_": "2"]))
    }

    @Test func aSymbolicLinkIsRefused() throws {
        let path = try Self.workspace()
        try FileManager.default.createSymbolicLink(
            atPath: path + "/.jobcreds-result/summary", withDestinationPath: "/etc/passwd")
        #expect(throws: JobCredsError.self) { try ResultDirectory(workspace: path, owner: nil).read() }
        let other = try Self.workspace()
        try FileManager.default.removeItem(atPath: other + "/.jobcreds-result")
        try FileManager.default.createSymbolicLink(atPath: other + "/.jobcreds-result", withDestinationPath: "/etc")
        #expect(throws: JobCredsError.self) { try ResultDirectory(workspace: other, owner: nil).read() }
    }

    @Test func aFileOfAnotherUserIsRefused() throws {
        let path = try Self.workspace()
        try "x".write(toFile: path + "/.jobcreds-result/summary", atomically: false, encoding: .utf8)
        #expect(throws: JobCredsError.self) { try ResultDirectory(workspace: path, owner: 4_000_000).read() }
    }

    @Test(arguments: [
        #"["a"]"#, #"{"a": 1}"#, #"{"a b": "c"}"#, #"{"": "c"}"#, #"{"é": "c"}"#, "not json",
        "{\"a\": \"" + String(repeating: "x", count: 122_880) + "\"}",
    ])
    func badOutputVariablesAreRefused(_ text: String) {
        #expect(throws: JobCredsError.self) { try ResultDirectory.outputVariables(Array(text.utf8)) }
    }

    @Test func outputVariablesUpToTheQuotaAreTaken() throws {
        let text = "{\"a\": \"" + String(repeating: "x", count: 122_879) + "\"}"
        #expect(try ResultDirectory.outputVariables(Array(text.utf8))["a"]?.count == 122_879)
    }
}

import CodePipeline
import Foundation
import JobCreds
import Testing

@testable import JobWorker

/// The journal: whole records, durable, read back after a restart, nothing secret in them.
@Suite struct JournalTests {
    static func journal() throws -> Journal {
        try Journal(stateDirectory: NSTemporaryDirectory() + "journal-\(UUID().uuidString)")
    }

    @Test func recordsAreReadBackAndReplacedAndRemoved() throws {
        let journal = try Self.journal()
        let id = "f4f4ff82-2d11-4b3c-9e2d-0123456789ab"
        try journal.record(JournalEntry(jobId: id, thirdParty: false, phase: .acknowledged))
        try journal.record(JournalEntry(jobId: id, thirdParty: false, phase: .started, session: 42, uid: 201_000))
        #expect(
            journal.entries().entries == [
                JournalEntry(jobId: id, thirdParty: false, phase: .started, session: 42, uid: 201_000)
            ])
        let result = JobResult.failure(.init(.jobFailed, "the build exited with status 3"))
        try journal.record(JournalEntry(jobId: id, thirdParty: false, phase: .finished, result: result))
        #expect(journal.entries().entries.first?.result == result)
        journal.remove(id)
        #expect(journal.entries().entries.isEmpty)
    }

    @Test func aThirdPartyIdOfAnyCharactersGetsAFileOfItsOwn() throws {
        let journal = try Self.journal()
        let ids = ["../../etc/passwd", String(repeating: "é/", count: 256), ".hidden"]
        for id in ids {
            try journal.record(JournalEntry(jobId: id, thirdParty: true, clientId: "c", phase: .acknowledged))
        }
        #expect(Set(journal.entries().entries.map(\.jobId)) == Set(ids))
        let names = try FileManager.default.contentsOfDirectory(atPath: journal.directory)
        #expect(names.allSatisfy { !$0.contains("/") && $0.utf8.count < 256 && !$0.hasPrefix(".") })
    }

    @Test func anUnreadableRecordIsNamedNotFatal() throws {
        let journal = try Self.journal()
        try "{".write(toFile: journal.directory + "/broken.json", atomically: false, encoding: .utf8)
        try journal.record(JournalEntry(jobId: "ok", thirdParty: true, phase: .acknowledged))
        let (entries, unreadable) = journal.entries()
        #expect(entries.map(\.jobId) == ["ok"] && unreadable == [journal.directory + "/broken.json"])
    }
}

@Suite struct ScrubberTests {
    @Test func everySecretIsRemovedLongestFirst() {
        let scrubber = Scrubber(["abc", "abcdef"])
        scrubber.add(["token-1"])
        #expect(scrubber.scrub("x abcdef y abc z token-1") == "x (redacted) y (redacted) z (redacted)")
        #expect(scrubber.scrub("nothing here") == "nothing here")
    }
}

@Suite struct JobEnvironmentTests {
    @Test func theBuildsEnvironmentIsMadeFromNothing() {
        let details = JobDetails(
            jobId: "j1", accountId: "123456789012",
            artifactCredentials: .init(accessKeyId: "ASIA", secretAccessKey: "s", sessionToken: "t"),
            inputArtifacts: [], outputArtifacts: [], encryptionKey: nil,
            pipelineContext: PipelineContext(
                pipelineName: "p", stageName: "s", actionName: "a", actionExecutionId: "e", pipelineExecutionId: "x",
                pipelineArn: nil))
        let worker = [
            "PATH": "/usr/bin", "AWS_SECRET_ACCESS_KEY": "worker-secret", "KEEP": "1", "DROP": "2", "LANG": "C",
        ]
        let made = JobEnvironment.make(
            job: details, region: "eu-west-1", workspace: "/w/j1", resultDirectory: "/w/j1/.r", access: .presign,
            sidecar: .init(port: 4000, tokenFile: "/s/token"), pass: ["KEEP"], worker: worker)
        #expect(
            made == [
                "PATH": "/usr/bin", "HOME": "/w/j1", "TMPDIR": "/w/j1/.tmp", "LANG": "C", "AWS_REGION": "eu-west-1",
                "AWS_DEFAULT_REGION": "eu-west-1", "JOBCREDS_RESULT_DIR": "/w/j1/.r", "CODEPIPELINE_JOB_ID": "j1",
                "CODEPIPELINE_ACCOUNT_ID": "123456789012", "CODEPIPELINE_PIPELINE_NAME": "p",
                "CODEPIPELINE_STAGE_NAME": "s", "CODEPIPELINE_ACTION_NAME": "a",
                "CODEPIPELINE_ACTION_EXECUTION_ID": "e", "CODEPIPELINE_PIPELINE_EXECUTION_ID": "x", "KEEP": "1",
                "JOBCREDS_URL": "http://127.0.0.1:4000", "JOBCREDS_TOKEN_FILE": "/s/token",
            ])
        #expect(JobEnvironmentRules.refuses("AWS_PROFILE") && JobEnvironmentRules.refuses("JOBCREDS_X"))
        #expect(!JobEnvironmentRules.refuses("GOPROXY"))
    }
}

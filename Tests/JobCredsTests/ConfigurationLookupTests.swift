import CodePipeline
import Foundation
import JobCreds
import Synchronization
import TestSupport
import Testing

/// The configuration lookup against scripted fetches and declarations: which values it asks
/// for, what it shows, and that every failure withholds everything.
@Suite struct ConfigurationLookupTests {
    static let id = ActionTypeID(category: "Build", owner: "Custom", provider: "JobCredsTest", version: "1")
    static let declared = ActionTypeDeclaration(
        id: id, properties: ["ProjectName", "ApiKey", "Region"], nonSecretProperties: ["ProjectName", "Region"])
    static let values = [
        "ProjectName": "demo-project", "ApiKey": "secret-\(Samples.canary)", "Password": "\(Samples.canary)-pw",
        "Region": "eu-west-1",
    ]

    /// A lookup whose job fetch decodes, as the real decoder does, only the values asked for.
    final class Script: Sendable {
        let asked = Mutex<[Set<String>]>([])
        let declarations: Mutex<[Result<ActionTypeDeclaration?, CodePipelineError>]>
        let actionType: ActionTypeID?

        init(_ declarations: [Result<ActionTypeDeclaration?, CodePipelineError>], actionType: ActionTypeID? = id) {
            self.declarations = Mutex(declarations)
            self.actionType = actionType
        }

        func lookup() -> ConfigurationLookup {
            ConfigurationLookup(
                fetchJob: { (revealing) throws(CodePipelineError) in
                    self.asked.withLock { $0.append(revealing) }
                    var details = Samples.details()
                    details.actionTypeId = self.actionType
                    details.configurationNames = Array(ConfigurationLookupTests.values.keys)
                    details.configurationValues = ConfigurationLookupTests.values.filter { revealing.contains($0.key) }
                    return details
                },
                declare: { (_) throws(CodePipelineError) in
                    try self.declarations.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] }.get()
                }, logger: CapturedLogs().logger())
        }
    }

    /// (Computed: a global holding an enum payload is invisible to LeakSanitizer's scan.)
    static var shown: ConfigurationAnswer {
        .available(
            actionTypeId: id, shown: ["ProjectName": "demo-project", "Region": "eu-west-1"],
            withheld: ["ApiKey", "Password"])
    }

    @Test func theFirstFetchAsksForNoValueThenForTheDeclaredOnesAndLaterFetchesAskStraightAway() async throws {
        let script = Script([.success(Self.declared)])
        let lookup = script.lookup()
        let first = try await lookup.fetch()
        #expect(first.configuration == Self.shown)
        #expect(first.details.configurationValues.isEmpty)  // shown values live in the answer only
        #expect(script.asked.withLock { $0 } == [[], ["ProjectName", "Region"]])
        let second = try await lookup.fetch()
        #expect(second.configuration == Self.shown)
        #expect(script.asked.withLock { $0 } == [[], ["ProjectName", "Region"], ["ProjectName", "Region"]])
    }

    @Test func aPropertyDeclaredSecretLaterIsWithheldAtOnce() async throws {
        let narrower = ActionTypeDeclaration(
            id: Self.id, properties: ["ProjectName", "ApiKey", "Region"], nonSecretProperties: ["ProjectName"])
        let lookup = Script([.success(Self.declared), .success(narrower)]).lookup()
        _ = try await lookup.fetch()
        let later = try await lookup.fetch()
        #expect(
            later.configuration
                == .available(
                    actionTypeId: Self.id, shown: ["ProjectName": "demo-project"],
                    withheld: ["ApiKey", "Password", "Region"]))
    }

    @Test(
        arguments: [
            (
                Result<ActionTypeDeclaration?, CodePipelineError>.failure(CodePipelineError(.accessDenied, "denied")),
                "needs codepipeline:ListActionTypes"
            ),
            (.failure(CodePipelineError(.unavailable, "HTTP 503")), "ListActionTypes failed (unavailable)"),
            (.success(nil), "lists no action type Custom/Build/JobCredsTest/1"),
            (
                .success(
                    ActionTypeDeclaration(
                        id: ActionTypeID(category: "Build", owner: "Custom", provider: "Other", version: "1"),
                        properties: ["ProjectName"], nonSecretProperties: ["ProjectName"])),
                "lists no action type"
            ),
        ])
    func withoutTheDeclarationNothingIsShown(
        _ declared: Result<ActionTypeDeclaration?, CodePipelineError>, _ why: String
    )
        async throws
    {
        // A declaration of another type is never used (the client matches exactly; so does this).
        let script = Script([declared.map { $0?.id == Self.id ? $0 : nil }])
        let fetched = try await script.lookup().fetch()
        guard case .unavailable(let reason) = fetched.configuration else {
            Issue.record("\(fetched.configuration)")
            return
        }
        #expect(reason.contains(why), "\(reason)")
        #expect(!reason.contains(Samples.canary))
        #expect(script.asked.withLock { $0 } == [[]])  // no value was ever decoded
    }

    @Test func aFailedLookupKeepsTheDeclarationFoundBefore() async throws {
        let lookup = Script([.success(Self.declared), .failure(CodePipelineError(.throttled, "slow down"))]).lookup()
        _ = try await lookup.fetch()
        #expect(try await lookup.fetch().configuration == Self.shown)
    }

    @Test func aJobWithoutAnActionTypeShowsNothing() async throws {
        let fetched = try await Script([.success(Self.declared)], actionType: nil).lookup().fetch()
        #expect(fetched.configuration == .unavailable(reason: "the job document names no action type"))
    }

    @Test func theAnswerIsJSONWithSortedNames() throws {
        let snapshot = CredentialSnapshot(
            details: Samples.details(), fetchedAt: Date(), assumedLifetime: .seconds(900), configuration: Self.shown)
        let body = String(decoding: snapshot.configurationBody, as: UTF8.self)
        #expect(
            body
                == #"{"actionTypeId":{"category":"Build","owner":"Custom","provider":"JobCredsTest","version":"1"},"#
                + #""configuration":{"ProjectName":"demo-project","Region":"eu-west-1"},"withheld":["ApiKey","Password"]}"#
        )
        #expect(!body.contains(Samples.canary))
    }
}

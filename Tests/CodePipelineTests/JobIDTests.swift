import CodePipeline
import Testing

@Suite struct JobIDTests {
    @Test func customJobIdsAreLowerCaseUUIDs() throws {
        _ = try JobID("f4f4ff82-2d11-4b3c-9e2d-0123456789ab", kind: .custom)
        for bad in ["F4F4FF82-2D11-4B3C-9E2D-0123456789AB", "f4f4ff82-2d11-4b3c-9e2d-0123456789a", "", "x"] {
            #expect(throws: CodePipelineError.self) { try JobID(bad, kind: .custom) }
        }
    }

    @Test func thirdPartyJobIdsArePrintableUpTo512() throws {
        _ = try JobID(String(repeating: "j", count: 512), kind: .thirdParty)
        _ = try JobID("partner job #42", kind: .thirdParty)
        for bad in ["", String(repeating: "j", count: 513), "a\nb", "a\u{0}b"] {
            #expect(throws: CodePipelineError.self) { try JobID(bad, kind: .thirdParty) }
        }
    }

    @Test func clientTokensAreValidatedAndNeverPrinted() throws {
        let token = try ClientToken("secret-CANARY")
        var dumped = ""
        dump(token, to: &dumped)
        for text in ["\(token)", String(reflecting: token), dumped] {
            #expect(!text.contains("CANARY"))
        }
        for bad in ["", String(repeating: "t", count: 257), "a\nb"] {
            #expect {
                _ = try ClientToken(bad)
            } throws: { !"\($0)".contains(bad.isEmpty ? "\u{1}" : bad) }
        }
    }
}

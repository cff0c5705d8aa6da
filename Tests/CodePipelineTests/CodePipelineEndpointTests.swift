import CodePipeline
import Testing

@Suite struct CodePipelineEndpointTests {
    func resolve(
        _ flag: String? = nil, _ environment: [String: String] = [:], region: String = "us-east-1",
        fips: Bool = false
    ) throws -> String {
        try CodePipelineEndpoint.resolve(flag: flag, environment: environment, region: region, fips: fips).description
    }

    @Test func regionalFipsAndChina() throws {
        #expect(try resolve() == "https://codepipeline.us-east-1.amazonaws.com/")
        #expect(try resolve(fips: true) == "https://codepipeline-fips.us-east-1.amazonaws.com/")
        #expect(try resolve(region: "cn-north-1") == "https://codepipeline.cn-north-1.amazonaws.com.cn/")
        #expect(
            try resolve(region: "us-gov-west-1", fips: true) == "https://codepipeline-fips.us-gov-west-1.amazonaws.com/"
        )
    }

    @Test func overridesInTheSDKsOrder() throws {
        let environment = [
            "AWS_ENDPOINT_URL_CODEPIPELINE": "https://service.example", "AWS_ENDPOINT_URL": "https://all.example",
        ]
        #expect(try resolve("https://flag.example", environment) == "https://flag.example/")
        #expect(try resolve(nil, environment) == "https://service.example/")
        #expect(try resolve(nil, ["AWS_ENDPOINT_URL": "https://all.example"]) == "https://all.example/")
        #expect(try resolve(nil, ["AWS_ENDPOINT_URL": ""]) == "https://codepipeline.us-east-1.amazonaws.com/")
    }

    @Test func refusals() throws {
        #expect(throws: CodePipelineError.self) { try resolve(region: "eu-west-1", fips: true) }
        #expect(throws: CodePipelineError.self) { try resolve(region: "us-east-1.evil.com") }
        #expect(throws: CodePipelineError.self) { try resolve("http://codepipeline.example") }
        #expect(throws: CodePipelineError.self) { try resolve("ftp://x") }
        #expect(try resolve("http://127.0.0.1:8080") == "http://127.0.0.1:8080/")
    }
}

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

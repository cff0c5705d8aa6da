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

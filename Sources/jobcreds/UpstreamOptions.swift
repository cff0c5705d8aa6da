import ArgumentParser
import JobCreds

/// The options `check` and `serve` share. Each can also come from `JOBCREDS_<OPTION>`; the flag wins.
struct UpstreamOptions: ParsableArguments {
    @Option(name: .long, help: "The CodePipeline job id (env JOBCREDS_JOB_ID).")
    var jobId: String?

    @Option(
        name: .long,
        help: "A file holding the client token: the job is a third-party job (env JOBCREDS_CLIENT_TOKEN_FILE).")
    var clientTokenFile: String?

    @Option(name: .long, help: "The AWS region (env JOBCREDS_REGION, then AWS_REGION, AWS_DEFAULT_REGION).")
    var region: String?

    @Option(
        name: .long,
        help:
            "The CodePipeline endpoint (env JOBCREDS_ENDPOINT_URL, then AWS_ENDPOINT_URL_CODEPIPELINE, AWS_ENDPOINT_URL)."
    )
    var endpointUrl: String?

    @Flag(name: .long, help: "Use the FIPS endpoint (env JOBCREDS_FIPS=true).")
    var fips = false

    @Option(
        name: .long,
        help: """
            How long one CodePipeline attempt may take (env JOBCREDS_UPSTREAM_TIMEOUT; default \
            \(DurationText.format(UpstreamSettings.defaultTimeout))).
            """)
    var upstreamTimeout: String?

    @Option(name: .long, help: "A PEM file of extra CAs to trust (env JOBCREDS_CA_BUNDLE, then AWS_CA_BUNDLE).")
    var caBundle: String?

    /// The settings, with environment fallbacks applied.
    func settings(environment: [String: String]) throws -> UpstreamSettings {
        let env = EnvironmentOptions(environment)
        guard let jobId = jobId ?? env["JOB_ID"] else {
            throw ValidationError("missing --job-id (or JOBCREDS_JOB_ID)")
        }
        return UpstreamSettings(
            jobId: jobId, clientTokenFile: clientTokenFile ?? env["CLIENT_TOKEN_FILE"], region: region ?? env["REGION"],
            endpointURL: endpointUrl ?? env["ENDPOINT_URL"], fips: fips || env.flag("FIPS"),
            timeout: try (upstreamTimeout ?? env["UPSTREAM_TIMEOUT"]).map {
                (text) throws(JobCredsError) in try DurationText.parse(text, option: "--upstream-timeout")
            } ?? UpstreamSettings.defaultTimeout)
    }

    /// The CA bundle to add, if any.
    func caBundlePath(environment: [String: String]) -> String? {
        EnvironmentOptions(environment).caBundle(flag: caBundle)
    }
}

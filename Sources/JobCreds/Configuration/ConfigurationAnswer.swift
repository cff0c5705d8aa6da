import CodePipeline

/// What `/v1/configuration` answers, decided once per fetch: the values of the properties the
/// action type declares not secret, built from that allowlist; the names of the rest.
public enum ConfigurationAnswer: Sendable, Equatable {
    /// `--expose-configuration` is off.
    case notExposed
    /// The declaration could not be had (not listed, the lookup denied or failed): nothing is
    /// shown, and `reason` says why (503 `ConfigurationUnavailable`).
    case unavailable(reason: String)
    /// The job's action type, the values shown and the names withheld (sorted).
    case available(actionTypeId: ActionTypeID, shown: [String: String], withheld: [String])

    /// The answer for `details` under `declaration`: a property is shown only if the type
    /// declares it with `"secret": false` and its value was decoded; every other property of
    /// the job is withheld by name (secret, undeclared, or not a string).
    public init(_ details: JobDetails, declaration: ActionTypeDeclaration) {
        var shown: [String: String] = [:]
        var withheld: [String] = []
        for name in details.configurationNames {
            if declaration.nonSecretProperties.contains(name), let value = details.configurationValues[name] {
                shown[name] = value
            } else {
                withheld.append(name)
            }
        }
        self = .available(actionTypeId: declaration.id, shown: shown, withheld: withheld.sorted())
    }

    /// `{"actionTypeId":{…},"configuration":{NAME: VALUE, …},"withheld":[NAME, …]}`, names sorted;
    /// nil unless available.
    var body: [UInt8]? {
        guard case .available(let id, let shown, let withheld) = self else { return nil }
        var configuration = JSONText.ObjectWriter()
        for name in shown.keys.sorted() { configuration.string(named: name, shown[name] ?? "") }
        return Array(
            JSONText.object([
                (
                    "actionTypeId",
                    JSONText.object([
                        ("category", JSONText.quote(id.category)), ("owner", JSONText.quote(id.owner)),
                        ("provider", JSONText.quote(id.provider)), ("version", JSONText.quote(id.version)),
                    ])
                ),
                ("configuration", String(decoding: configuration.finish(), as: UTF8.self)),
                ("withheld", "[" + withheld.map(JSONText.quote).joined(separator: ",") + "]"),
            ]).utf8)
    }
}

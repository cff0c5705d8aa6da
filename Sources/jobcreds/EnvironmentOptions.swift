/// Reads `JOBCREDS_<OPTION>` variables (`JOBCREDS_WORKER_<OPTION>` for `worker`).
struct EnvironmentOptions {
    private let environment: [String: String]
    private let prefix: String

    init(_ environment: [String: String], prefix: String = "JOBCREDS_") {
        self.environment = environment
        self.prefix = prefix
    }

    /// The value of `<prefix><name>`, nil when unset or empty.
    subscript(name: String) -> String? {
        guard let value = environment[prefix + name], !value.isEmpty else { return nil }
        return value
    }

    /// The CA bundle to add: `flag`, else `<prefix>CA_BUNDLE`, else `AWS_CA_BUNDLE` when not empty.
    func caBundle(flag: String?) -> String? {
        flag ?? self["CA_BUNDLE"] ?? environment["AWS_CA_BUNDLE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether `<prefix><name>` is `1`, `true` or `yes`.
    func flag(_ name: String) -> Bool {
        ["1", "true", "yes"].contains(self[name]?.lowercased() ?? "")
    }
}

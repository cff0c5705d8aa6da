/// Reads `JOBCREDS_<OPTION>` variables.
struct EnvironmentOptions {
    private let environment: [String: String]

    init(_ environment: [String: String]) { self.environment = environment }

    /// The value of `JOBCREDS_<name>`, nil when unset or empty.
    subscript(name: String) -> String? {
        guard let value = environment["JOBCREDS_\(name)"], !value.isEmpty else { return nil }
        return value
    }

    /// Whether `JOBCREDS_<name>` is `1`, `true` or `yes`.
    func flag(_ name: String) -> Bool {
        ["1", "true", "yes"].contains(self[name]?.lowercased() ?? "")
    }
}

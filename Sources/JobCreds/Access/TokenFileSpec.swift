/// One `--token-file PATH[:SCOPES]`: a token file and what its token may ask for.
public struct TokenFileSpec: Sendable, Equatable {
    /// The file's path.
    public var path: String
    /// What the file's token may ask for.
    public var scopes: Set<TokenScope>

    /// A spec for `path` granting `scopes`.
    public init(path: String, scopes: Set<TokenScope> = TokenScope.unscoped) {
        self.path = path
        self.scopes = scopes
    }

    /// Parses `PATH` or `PATH:SCOPE[,SCOPE…]`. The text after the last `:` is read as scopes when it
    /// has no `/`; a path that itself holds a `:` can be given with its scopes (`a:b:credentials`).
    /// - Throws: `JobCredsError.usage` for an empty path, no scope, or an unknown scope.
    public init(parsing text: String, option: String = "--token-file") throws(JobCredsError) {
        guard let colon = text.lastIndex(of: ":"), !text[text.index(after: colon)...].contains("/") else {
            guard !text.isEmpty else { throw JobCredsError(.usage, "\(option) needs a path") }
            self.init(path: text)
            return
        }
        let path = String(text[..<colon])
        let names = text[text.index(after: colon)...].split(separator: ",", omittingEmptySubsequences: false)
        var scopes: Set<TokenScope> = []
        for name in names {
            guard let scope = TokenScope(rawValue: String(name)) else {
                throw JobCredsError(
                    .usage,
                    "\(option) \(text): '\(name)' is not a scope; scopes are "
                        + TokenScope.allCases.map(\.rawValue).joined(separator: ", "))
            }
            scopes.insert(scope)
        }
        guard !path.isEmpty else { throw JobCredsError(.usage, "\(option) \(text) needs a path before the scopes") }
        self.init(path: path, scopes: scopes)
    }

    /// The name audit lines give the token: the file's base name, never its value.
    public var label: String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// `PATH:scope,scope` in the scopes' own order.
    public var description: String {
        "\(path):\(scopes.sorted().map(\.rawValue).joined(separator: ","))"
    }
}

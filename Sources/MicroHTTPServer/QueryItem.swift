/// One argument of a request's query: `name=value` (`name` alone has an empty value); decoded,
/// or exactly as sent when the server keeps escapes (`Configuration.keepsEscapes`).
public struct QueryItem: Sendable, Equatable {
    /// The argument's name.
    public var name: String
    /// Its value.
    public var value: String

    /// Creates an argument.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

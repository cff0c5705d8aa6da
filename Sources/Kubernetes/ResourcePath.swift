import HTTPCore

/// Where a kind of object lives in the API: `/apis/batch/v1/namespaces/NS/jobs`, say.
public struct ResourcePath: Sendable, Equatable {
    /// The API group, empty for the core group.
    public var group: String
    public var version: String
    public var namespace: String
    /// The resource's plural name: `jobs`, `pods`, `events`, `podtemplates`.
    public var resource: String

    public init(group: String, version: String, namespace: String, resource: String) {
        self.group = group
        self.version = version
        self.namespace = namespace
        self.resource = resource
    }

    public static func jobs(in namespace: String) -> ResourcePath {
        ResourcePath(group: "batch", version: "v1", namespace: namespace, resource: "jobs")
    }

    public static func pods(in namespace: String) -> ResourcePath {
        ResourcePath(group: "", version: "v1", namespace: namespace, resource: "pods")
    }

    public static func events(in namespace: String) -> ResourcePath {
        ResourcePath(group: "", version: "v1", namespace: namespace, resource: "events")
    }

    public static func podTemplates(in namespace: String) -> ResourcePath {
        ResourcePath(group: "", version: "v1", namespace: namespace, resource: "podtemplates")
    }

    /// The collection's path, or one object's when `name` is given.
    func path(_ name: String? = nil) -> String {
        let root = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        let collection = "\(root)/namespaces/\(Self.escape(namespace))/\(resource)"
        return name.map { "\(collection)/\(Self.escape($0))" } ?? collection
    }

    /// A path segment or query value, percent-encoded but for RFC 3986's unreserved characters.
    static func escape(_ text: String) -> String { URIEncoding.encode(text) }

    /// `?a=b&c=d` of the items whose value is not nil, or nothing.
    static func query(_ items: [(String, String?)]) -> String {
        let present = items.compactMap { name, value in value.map { "\(name)=\(escape($0))" } }
        return present.isEmpty ? "" : "?" + present.joined(separator: "&")
    }
}

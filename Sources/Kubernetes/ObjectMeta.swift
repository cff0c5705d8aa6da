/// The part of an object's `metadata` the worker reads.
public struct ObjectMeta: Decodable, Sendable, Equatable {
    public var name: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var finalizers: [String]?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
}

/// An object of which only the metadata is read.
public struct Metadata: Decodable, Sendable, Equatable {
    public var metadata: ObjectMeta
}

/// A list's page: its items, the list's resourceVersion, the token of the next page.
public struct ObjectList<Item: Decodable & Sendable>: Decodable, Sendable {
    public struct ListMeta: Decodable, Sendable {
        public var resourceVersion: String?
        public var `continue`: String?
    }

    public var metadata: ListMeta
    public var items: [Item]
}

/// Header fields in order, repeated names kept, names compared ASCII case-insensitively (RFC 9110
/// §5.1). The one header type of the client (`HTTPRequest`, `HTTPResponse`), the server
/// (`ServerRequest`, `ServerResponse`) and the signer.
///
/// Thread-safety: a value type.
public struct HTTPHeaders: Sendable, RandomAccessCollection, ExpressibleByArrayLiteral {
    /// One field: its name as sent, and its value.
    public typealias Field = (name: String, value: String)

    private var fields: [Field]

    /// Headers holding `fields`, in order.
    public init(_ fields: [Field] = []) {
        self.fields = fields
    }

    public init(arrayLiteral fields: Field...) {
        self.init(fields)
    }

    public var startIndex: Int { fields.startIndex }
    public var endIndex: Int { fields.endIndex }
    public subscript(position: Int) -> Field { fields[position] }

    /// The value of the first field named `name`, or nil.
    public subscript(name: String) -> String? {
        fields.first { Self.sameName($0.name, name) }?.value
    }

    /// Every value of the fields named `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    /// Whether a field named `name` is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { Self.sameName($0.name, name) }
    }

    /// Adds a field after the others.
    public mutating func append(_ name: String, _ value: String) {
        fields.append((name, value))
    }

    /// Sets the first field named `name` to `value`, keeping its place, or adds one after the others.
    public mutating func set(_ name: String, _ value: String) {
        if let index = fields.firstIndex(where: { Self.sameName($0.name, name) }) {
            fields[index].value = value
        } else {
            fields.append((name, value))
        }
    }

    /// Removes every field named `name`.
    public mutating func remove(_ name: String) {
        fields.removeAll { Self.sameName($0.name, name) }
    }

    /// ASCII case-insensitive equality of two field names, without allocating.
    public static func sameName(_ left: String, _ right: String) -> Bool {
        guard left.utf8.count == right.utf8.count else { return false }
        if left == right { return true }  // the usual spelling: one comparison of the bytes
        for (a, b) in zip(left.utf8, right.utf8) where a != b {
            guard a ^ 0x20 == b, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(a | 0x20) else { return false }
        }
        return true
    }
}

/// Writes JSON by hand for the hot path (audit lines, response bodies): strings escaped per
/// RFC 8259, control characters as `\u00XX`, U+2028/2029 escaped too, so a value can never end
/// a line or a string early (no log injection). Works on UTF-8 bytes: a string that needs no
/// escaping is copied in one piece.
public enum JSONText {
    private static let hex = Array("0123456789abcdef".utf8)

    /// `value` as a quoted JSON string.
    public static func quote(_ value: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(value.utf8.count + 2)
        appendQuoted(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `value` as a quoted JSON string to `out`.
    public static func appendQuoted(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        if value.utf8.withContiguousStorageIfAvailable({ appendEscaped($0, to: &out) }) == nil {
            var copy = value  // a bridged or lazily built string: made contiguous first
            copy.withUTF8 { appendEscaped($0, to: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `bytes` (valid UTF-8) escaped, runs that need no escape in one copy each.
    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        // Almost every value is clean: one tight scan, one copy.
        if !bytes.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F || $0 == 0xE2 }) {
            out.append(contentsOf: bytes)
            return
        }
        var start = 0
        var index = 0
        let count = bytes.count
        while index < count {
            // The common case first: printable ASCII other than `"` and `\`, and UTF-8 past 0xE2.
            let byte = bytes[index]
            if byte >= 0x20 && byte != 0x22 && byte != 0x5C && byte != 0x7F && byte != 0xE2 {
                index += 1
                continue
            }
            let separator =
                byte == 0xE2 && index + 2 < count && bytes[index + 1] == 0x80
                && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9)
            if byte == 0xE2 && !separator {
                index += 1
                continue
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
            switch byte {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            default:
                let scalar: UInt32 = separator ? 0x2028 | UInt32(bytes[index + 2] & 0x01) : UInt32(byte)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u")])
                for shift in [12, 8, 4, 0] { out.append(hex[Int((scalar >> UInt32(shift)) & 0xF)]) }
            }
            index += separator ? 3 : 1
            start = index
        }
        if start == 0 {
            out.append(contentsOf: bytes)
        } else {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<count]))
        }
    }

    /// An object from ordered `(key, value)` pairs whose values are already JSON; nil values are left out.
    public static func object(_ fields: [(String, String?)]) -> String {
        var writer = ObjectWriter()
        for (key, value) in fields { writer.raw(named: key, value) }
        return String(decoding: writer.finish(), as: UTF8.self)
    }

    /// `text` cut to `limit` characters, with `…` when cut (for client-supplied strings).
    public static func truncated(_ text: String, to limit: Int) -> String {
        text.utf8.count <= limit || text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }

    /// Builds one JSON object into a byte buffer, field by field (the audit log's hot path).
    public struct ObjectWriter {
        private var bytes: [UInt8]

        /// An empty object, with room for `capacity` bytes.
        public init(capacity: Int = 256) {
            bytes = []
            bytes.reserveCapacity(capacity)
            bytes.append(UInt8(ascii: "{"))
        }

        // Keys are the sidecar's own names, written in the code (`StaticString`: copied whole,
        // never escaped), or names from elsewhere (`named:`, escaped like any value).

        /// `"key":"value"`, escaped; nothing when `value` is nil.
        public mutating func string(_ key: StaticString, _ value: String?) {
            guard let value else { return }
            self.key(key)
            JSONText.appendQuoted(value, to: &bytes)
        }

        /// `"key":"value"` for a key not written in the code, both escaped.
        public mutating func string(named key: String, _ value: String?) {
            guard let value else { return }
            self.key(named: key)
            JSONText.appendQuoted(value, to: &bytes)
        }

        /// `"key":value` for a value that is already JSON; nothing when `value` is nil.
        public mutating func raw(_ key: StaticString, _ value: String?) {
            guard let value else { return }
            self.key(key)
            bytes.append(contentsOf: value.utf8)
        }

        /// `raw` for a key not written in the code, escaped.
        public mutating func raw(named key: String, _ value: String?) {
            guard let value else { return }
            self.key(named: key)
            bytes.append(contentsOf: value.utf8)
        }

        /// `"key":123`.
        public mutating func integer(_ key: StaticString, _ value: Int) {
            self.key(key)
            bytes.append(contentsOf: String(value).utf8)
        }

        /// `"key":123` for a key not written in the code, escaped.
        public mutating func integer(named key: String, _ value: Int) {
            self.key(named: key)
            bytes.append(contentsOf: String(value).utf8)
        }

        /// `"key":"…"` with the value written by `body` straight into the buffer (between the
        /// quotes; it must write nothing that needs escaping).
        public mutating func unescaped(_ key: StaticString, _ body: (inout [UInt8]) -> Void) {
            self.key(key)
            bytes.append(UInt8(ascii: "\""))
            body(&bytes)
            bytes.append(UInt8(ascii: "\""))
        }

        /// The object's bytes, closed.
        public consuming func finish() -> [UInt8] {
            bytes.append(UInt8(ascii: "}"))
            return bytes
        }

        private mutating func key(_ key: StaticString) {
            if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            key.withUTF8Buffer { name in
                assert(name.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }, "a key to escape")
                bytes.append(contentsOf: name)
            }
            bytes.append(UInt8(ascii: "\""))
            bytes.append(UInt8(ascii: ":"))
        }

        private mutating func key(named key: String) {
            if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
        }
    }
}

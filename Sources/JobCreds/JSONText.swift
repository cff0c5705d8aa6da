/// Writes JSON by hand for the hot path (audit lines, response bodies): strings escaped per
/// RFC 8259, control characters as `\u00XX`, U+2028/2029 escaped too, so a value can never end
/// a line or a string early (no log injection).
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
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: [0x5C, 0x22])
            case "\\": out.append(contentsOf: [0x5C, 0x5C])
            case "\n": out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case "\r": out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case "\t": out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case _
            where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029:
                out.append(contentsOf: Array("\\u".utf8))
                for shift in [12, 8, 4, 0] { out.append(hex[Int((scalar.value >> UInt32(shift)) & 0xF)]) }
            default:
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// An object from ordered `(key, value)` pairs whose values are already JSON; nil values are left out.
    public static func object(_ fields: [(String, String?)]) -> String {
        var out = "{"
        var first = true
        for (key, value) in fields {
            guard let value else { continue }
            if !first { out += "," }
            first = false
            out += quote(key) + ":" + value
        }
        return out + "}"
    }

    /// `text` cut to `limit` characters, with `…` when cut (for client-supplied strings).
    public static func truncated(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}

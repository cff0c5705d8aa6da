/// A size in bytes as flags spell it: a whole number of bytes, or one followed by `K`, `M`, `G` or
/// `T` (binary: `64M` is 64 MiB).
public enum ByteSize {
    /// The bytes `text` names, or nil when it names none (or more than 2^62).
    public static func parse(_ text: String) -> UInt64? {
        var digits = Substring(text)
        var shift: UInt64 = 0
        if let unit = digits.last, let power = ["K": 10, "M": 20, "G": 30, "T": 40][unit.uppercased()] {
            shift = UInt64(power)
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.count <= 19, digits.utf8.allSatisfy({ (48...57).contains($0) }),
            let value = UInt64(digits), value <= (UInt64(1) << 62) >> shift
        else { return nil }
        return value << shift
    }

    /// `bytes` in the largest binary unit it fills exactly (`64M`), for messages.
    public static func shown(_ bytes: UInt64) -> String {
        for (unit, shift) in [("T", 40), ("G", 30), ("M", 20), ("K", 10)] as [(String, UInt64)]
        where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes) bytes"
    }
}

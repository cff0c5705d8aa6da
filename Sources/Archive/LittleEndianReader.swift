/// Reads little-endian fields from bytes, every read bounds-checked.
struct LittleEndianReader {
    private let bytes: [UInt8]
    private(set) var position: Int
    /// What the fields are, for the error when they run out.
    private let what: String

    init(_ bytes: [UInt8], at position: Int = 0, what: String) {
        self.bytes = bytes
        self.position = position
        self.what = what
    }

    var remaining: Int { bytes.count - position }

    mutating func u16() throws(ArchiveError) -> UInt16 {
        let field = try take(2)
        return UInt16(field[field.startIndex]) | UInt16(field[field.startIndex + 1]) << 8
    }

    mutating func u32() throws(ArchiveError) -> UInt32 {
        let low = UInt32(try u16())
        return low | UInt32(try u16()) << 16
    }

    mutating func u64() throws(ArchiveError) -> UInt64 {
        let low = UInt64(try u32())
        return low | UInt64(try u32()) << 32
    }

    mutating func take(_ count: Int) throws(ArchiveError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw ArchiveError(.truncated, "\(what) is cut short")
        }
        defer { position += count }
        return bytes[position..<position + count]
    }

    mutating func skip(_ count: Int) throws(ArchiveError) {
        _ = try take(count)
    }
}

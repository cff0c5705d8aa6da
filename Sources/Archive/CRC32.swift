/// CRC-32 (ISO-HDLC, the zip and gzip one), computed here from the bytes written, so an entry's
/// checksum is verified by this code and not only by the library that inflated it.
public struct CRC32: Sendable {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 != 0 ? 0xedb8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    private var state: UInt32 = 0xffff_ffff

    /// A checksum of no bytes yet.
    public init() {}

    /// Adds `bytes`.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var crc = state
        Self.table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        }
        state = crc
    }

    /// The checksum of the bytes added.
    public var value: UInt32 { state ^ 0xffff_ffff }
}

import Archive
import Testing

@Suite struct CRC32Tests {
    /// The byte-at-a-time definition, to hold the sliced one to.
    func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? 0xedb8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return crc ^ 0xffff_ffff
    }

    func crc(_ pieces: [[UInt8]]) -> UInt32 {
        var checksum = CRC32()
        for piece in pieces { piece.withUnsafeBytes { checksum.update($0) } }
        return checksum.value
    }

    @Test func theCheckValueOfTheStandard() {
        #expect(crc([Array("123456789".utf8)]) == 0xcbf4_3926)
        #expect(crc([]) == 0)
    }

    @Test func anyLengthSplitAnywhereMatchesTheDefinition() {
        var generator = SystemRandomNumberGenerator()
        for length in [1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099] {
            let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let cut = Int.random(in: 0...length, using: &generator)
            #expect(crc([bytes]) == reference(bytes), "length \(length)")
            #expect(
                crc([Array(bytes[..<cut]), Array(bytes[cut...])]) == reference(bytes), "length \(length) cut \(cut)")
        }
    }
}

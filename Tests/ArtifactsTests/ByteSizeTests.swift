import Artifacts
import Testing

@Suite struct ByteSizeTests {
    @Test(arguments: [
        ("0", UInt64(0)), ("1", 1), ("64M", 64 << 20), ("64m", 64 << 20), ("1K", 1024), ("2G", 2 << 30),
        ("3T", 3 << 40),
    ])
    func aSizeIsBytesOrABinaryUnit(text: String, bytes: UInt64) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test(arguments: ["", "M", "1.5M", "-1", "1MB", "1 M", "99999999999999999999", "5000000000G", "+1"])
    func anythingElseIsNoSize(text: String) {
        #expect(ByteSize.parse(text) == nil)
    }

    @Test func aSizeIsShownInTheUnitItFills() {
        #expect(ByteSize.shown(64 << 20) == "64M")
        #expect(ByteSize.shown(1536) == "1536 bytes")
        #expect(ByteSize.shown(3 << 30) == "3G")
    }
}

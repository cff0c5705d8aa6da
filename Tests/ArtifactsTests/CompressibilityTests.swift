import Foundation
import Testing

@testable import Artifacts

@Suite struct CompressibilityTests {
    func entropy(_ bytes: [UInt8]) -> Double {
        bytes.withUnsafeBytes { Compressibility.entropy($0) }
    }

    @Test func evenlySpreadBytesCarryEightBitsAndTextFarFewer() {
        let spread = (0..<65_536).map { UInt8(truncatingIfNeeded: $0) }
        #expect(abs(entropy(spread) - 8) < 1e-9)
        #expect(entropy([UInt8](repeating: 7, count: 1000)) == 0)
        #expect(entropy([]) == 0)
        let text = Array(String(repeating: "the quick brown fox jumps over the lazy dog\n", count: 500).utf8)
        #expect(entropy(text) < 5)
        var generator = SystemRandomNumberGenerator()
        let random = (0..<65_536).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        #expect(entropy(random) > Compressibility.incompressibleBits)
    }

    @Test func aFileIsJudgedBySamplesFromAllOverIt() throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
        defer { buffer.deallocate() }
        var generator = SystemRandomNumberGenerator()
        let random = (0..<(1 << 20)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let text = Array(String(repeating: "line of a build log\n", count: 1 << 16).utf8)
        let cases: [([UInt8], Bool)] = [
            (random, false), (text, true), (Array(random.prefix(4000)), true), (Array(text + random), true),
        ]
        for (bytes, worth) in cases {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("sample-\(UUID())").path
            try #require(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            defer { unlink(path) }
            let file = open(path, O_RDONLY)
            try #require(file >= 0)
            defer { close(file) }
            #expect(Compressibility.worthDeflating(file, size: UInt64(bytes.count), buffer: buffer) == worth)
            #expect(lseek(file, 0, SEEK_CUR) == 0, "the copy starts where the file's offset is")
        }
    }
}

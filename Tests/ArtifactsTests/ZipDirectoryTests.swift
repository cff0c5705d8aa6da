import Archive
import Testing

/// The central-directory check against zips libarchive's writer makes, and mutations of them.
@Suite struct ZipDirectoryTests {
    /// A zip of `files` (name, bytes) made by `ZipWriter`, in memory.
    static func zip(_ files: [(String, [UInt8])], level: Int = 6) throws -> [UInt8] {
        final class Bytes { var value: [UInt8] = [] }
        let output = Bytes()
        let writer = try ZipWriter(level: level) { chunk in
            output.value.append(contentsOf: chunk)
            return true
        }
        try writer.addDirectory(path: "d/", permissions: 0o750, modified: 1_700_000_000)
        for (name, bytes) in files {
            try writer.beginFile(
                path: name, permissions: 0o640, modified: 1_700_000_000, size: UInt64(bytes.count), compress: true)
            try bytes.withUnsafeBytes { try writer.write($0) }
        }
        try writer.addSymlink(path: "link", target: "d/ünï", modified: 1_700_000_000)
        try writer.finish()
        return output.value
    }

    static func fault(_ bytes: [UInt8], maxEntries: Int = 100) -> ArchiveError.Code? {
        do {
            _ = try ZipDirectory.read(MemoryBytes(bytes), maxEntries: maxEntries)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func aWrittenZipReadsBackWithUnixModesUTF8NamesAndSizes() throws {
        let bytes = try Self.zip([("d/ünï", Array(repeating: 7, count: 100_000)), ("empty", [])])
        let directory = try ZipDirectory.read(MemoryBytes(bytes), maxEntries: 10)
        #expect(directory.records.map(\.shownName) == ["d/", "d/ünï", "empty", "link"])
        #expect(
            directory.records.map { $0.unixMode.map { $0 & 0o170_000 } } == [
                0o040_000, 0o100_000, 0o100_000, 0o120_000,
            ])
        #expect(directory.records[1].unixMode.map { $0 & 0o7777 } == 0o640)
        #expect(directory.records[1].size == 100_000 && directory.records[1].method == 8)
        #expect(directory.records[1].compressedSize < 1000)
        #expect(directory.records[1].flags & 0x800 != 0, "the non-ASCII name is flagged UTF-8")
        var checksum = CRC32()
        Array(repeating: UInt8(7), count: 100_000).withUnsafeBytes { checksum.update($0) }
        #expect(directory.records[1].crc32 == checksum.value)
    }

    @Test func tooManyEntriesAreRefusedBeforeTheyAreRead() throws {
        #expect(Self.fault(try Self.zip([("a", [1]), ("b", [2])]), maxEntries: 3) == .tooManyEntries)
    }

    @Test func notAZipAndACutShortZipAreTold() throws {
        #expect(Self.fault(Array("hello, this is not an archive at all".utf8)) == .notAnArchive)
        #expect(Self.fault([1, 2, 3]) == .notAnArchive)
        let bytes = try Self.zip([("a", [1, 2, 3])])
        #expect(Self.fault(Array(bytes.dropLast(10))) == .truncated)
        #expect(Self.fault(bytes + [0, 0, 0]) == .truncated, "bytes after the end record: no record fits exactly")
    }

    @Test func aLocalHeaderThatNamesAnotherEntryIsAMismatch() throws {
        var bytes = try Self.zip([("abc", [1, 2, 3])])
        // The second local header ("d/" is first) names "abc": make it "abd".
        let name = Array("abc".utf8)
        let at = try #require((0..<bytes.count - 3).first { bytes[$0..<$0 + 3].elementsEqual(name) })
        bytes[at + 2] = UInt8(ascii: "d")
        #expect(Self.fault(bytes) == .headerMismatch)
    }

    @Test func anEncryptedFlagOrAnUnknownMethodInTheDirectoryIsRefused() throws {
        let bytes = try Self.zip([("abc", [1, 2, 3])])
        let signature: [UInt8] = [0x50, 0x4b, 0x01, 0x02]
        let central = try #require((0..<bytes.count - 4).first { bytes[$0..<$0 + 4].elementsEqual(signature) })
        var encrypted = bytes
        encrypted[central + 8] |= 1
        #expect(Self.fault(encrypted) == .encrypted)
        var bzip2 = bytes
        bzip2[central + 10] = 12
        #expect(Self.fault(bzip2) == .unsupportedMethod)
    }

    @Test func crc32IsTheZipOne() {
        var checksum = CRC32()
        Array("123456789".utf8).withUnsafeBytes { checksum.update($0) }
        #expect(checksum.value == 0xcbf4_3926)
    }
}

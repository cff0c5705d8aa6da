/// A zip archive's central directory, checked against its end records and every local header
/// before anything is read through libarchive: what libarchive does not say (offsets, the local
/// headers, overlaps, declared sizes) and what the extraction rules need (each entry's name bytes,
/// its Unix mode, the declared size and CRC-32).
///
/// The checks (APPNOTE 6.3.10 for the layout):
/// - one end-of-central-directory record, in the last 65,557 bytes, its comment running exactly to
///   the end of the file; ZIP64 end records through their locator; a single disk;
/// - the central directory ends where the end records begin, holds exactly the entries it
///   declares, each field inside its record;
/// - no entry is encrypted, every entry is stored or deflated, a stored entry's sizes agree, no
///   deflated entry declares more than 1,100 times its compressed size (deflate tops out near
///   1,032:1);
/// - each local header has the central directory's name, method, flags and (without a data
///   descriptor) CRC-32 and sizes;
/// - the entries' bytes, local header to data end, are disjoint and end before the central
///   directory (David Fifield's overlapping-entry bombs, CVE-2019-13232).
public struct ZipDirectory: Sendable {
    /// One entry of the central directory.
    public struct Record: Sendable, Equatable {
        /// Its position in the central directory.
        public var index: Int
        /// Its name, as stored.
        public var name: [UInt8]
        /// General-purpose flags.
        public var flags: UInt16
        /// 0 stored, 8 deflate.
        public var method: UInt16
        /// The declared CRC-32 of the uncompressed bytes.
        public var crc32: UInt32
        /// The bytes stored.
        public var compressedSize: UInt64
        /// The bytes it extracts to.
        public var size: UInt64
        /// Where its local header starts.
        public var localHeaderOffset: UInt64
        /// Where its data starts.
        public var dataOffset: UInt64
        /// "Version made by": the host system in the high byte (3 is Unix).
        public var madeBy: UInt16
        /// The external attributes: a Unix mode in the high 16 bits when made by Unix.
        public var externalAttributes: UInt32

        /// The Unix mode (type and permission bits), when the entry was made on Unix and has one.
        public var unixMode: UInt32? {
            let mode = externalAttributes >> 16
            return madeBy >> 8 == 3 && mode != 0 ? mode : nil
        }

        /// Whether the name ends with `/`, the zip spelling of a directory.
        public var namesDirectory: Bool { name.last == UInt8(ascii: "/") }

        /// The name as it may be shown.
        public var shownName: String { displayName(name) }
    }

    /// The entries in the order of their local headers, which is the order libarchive's seekable
    /// reader returns them in.
    public var records: [Record]
    /// Where the central directory starts.
    public var directoryOffset: UInt64

    /// The largest central directory read, in bytes.
    public static let maxDirectoryBytes: UInt64 = 256 << 20

    /// Reads and checks the central directory of `source`.
    /// - Parameter maxEntries: more entries than this is `tooManyEntries`, checked before any is read.
    /// - Throws: `ArchiveError` naming the first fault found.
    public static func read(_ source: some ByteSource, maxEntries: Int) throws(ArchiveError) -> ZipDirectory {
        let end = try EndRecords.find(in: source)
        guard end.entries <= UInt64(maxEntries) else {
            throw ArchiveError(
                .tooManyEntries, "the archive declares \(end.entries) entries, more than the \(maxEntries) allowed")
        }
        guard end.directorySize <= maxDirectoryBytes else {
            throw ArchiveError(.tooManyEntries, "the central directory is \(end.directorySize) bytes, over 256 MiB")
        }
        guard end.entries.multipliedReportingOverflow(by: 46).partialValue <= end.directorySize else {
            throw ArchiveError(
                .corrupt, "the central directory is too small for the \(end.entries) entries it declares")
        }
        let directory = try source.bytes(at: end.directoryOffset, length: Int(end.directorySize))
        var reader = LittleEndianReader(directory, what: "the central directory")
        var records: [Record] = []
        records.reserveCapacity(Int(end.entries))
        while reader.remaining > 0 {
            guard records.count < end.entries else {
                throw ArchiveError(
                    .corrupt, "the central directory holds more than the \(end.entries) entries declared")
            }
            records.append(try centralRecord(&reader, index: records.count))
        }
        guard records.count == end.entries else {
            throw ArchiveError(
                .corrupt, "the central directory holds \(records.count) entries, not the \(end.entries) declared")
        }
        records.sort { $0.localHeaderOffset < $1.localHeaderOffset }
        // First from the central directory alone (a local header shared by two entries, one entry's
        // data over the next one's header), then again with each local header's real length.
        try checkDisjoint(records, directoryOffset: end.directoryOffset, dataOffset: { $0.localHeaderOffset + 30 })
        for index in records.indices {
            records[index].dataOffset = try checkLocalHeader(
                of: records[index], in: source, before: end.directoryOffset)
        }
        try checkDisjoint(records, directoryOffset: end.directoryOffset, dataOffset: \.dataOffset)
        return ZipDirectory(records: records, directoryOffset: end.directoryOffset)
    }

    /// The end-of-central-directory record (and its ZIP64 twin), as far as the checks need it.
    private struct EndRecords {
        var entries: UInt64
        var directorySize: UInt64
        var directoryOffset: UInt64

        static let signature: [UInt8] = [0x50, 0x4b, 0x05, 0x06]

        static func find(in source: some ByteSource) throws(ArchiveError) -> EndRecords {
            guard source.count >= 22 else {
                throw ArchiveError(.notAnArchive, "\(source.count) bytes is too short for a zip archive")
            }
            let tailLength = Int(min(source.count, 65_557))
            let tailStart = source.count - UInt64(tailLength)
            let tail = try source.bytes(at: tailStart, length: tailLength)
            var found: [Int] = []
            var position = tail.count - 22
            while position >= 0 {
                if tail[position] == 0x50, tail[position + 1] == 0x4b, tail[position + 2] == 0x05,
                    tail[position + 3] == 0x06,
                    Int(tail[position + 20]) | Int(tail[position + 21]) << 8 == tail.count - position - 22
                {
                    found.append(position)
                }
                position -= 1
            }
            guard let last = found.first else {
                if try source.bytes(at: 0, length: 4) == [0x50, 0x4b, 0x03, 0x04] {
                    throw ArchiveError(.truncated, "a zip archive without its end record: cut short")
                }
                throw ArchiveError(.notAnArchive, "no end-of-central-directory record: not a zip archive")
            }
            guard found.count == 1 else {
                throw ArchiveError(.corrupt, "two end-of-central-directory records: the archive is ambiguous")
            }
            var reader = LittleEndianReader(tail, at: last + 4, what: "the end-of-central-directory record")
            let disk = try reader.u16()
            let directoryDisk = try reader.u16()
            let entriesOnDisk = try reader.u16()
            let entries = try reader.u16()
            let directorySize = try reader.u32()
            let directoryOffset = try reader.u32()
            let endOffset = tailStart + UInt64(last)
            var records = EndRecords(
                entries: UInt64(entries), directorySize: UInt64(directorySize),
                directoryOffset: UInt64(directoryOffset))
            var directoryEnd = endOffset
            let declaresZip64 =
                disk == 0xffff || directoryDisk == 0xffff || entriesOnDisk == 0xffff || entries == 0xffff
                || directorySize == 0xffff_ffff || directoryOffset == 0xffff_ffff
            if endOffset >= 20, try source.bytes(at: endOffset - 20, length: 4) == [0x50, 0x4b, 0x06, 0x07] {
                (records, directoryEnd) = try zip64(in: source, locatorAt: endOffset - 20)
            } else if declaresZip64 {
                throw ArchiveError(.corrupt, "the end record asks for ZIP64 end records that are not there")
            } else if disk != 0 || directoryDisk != 0 || entriesOnDisk != entries {
                throw ArchiveError(.multiDisk, "the archive spans several disks")
            }
            guard records.directoryOffset <= directoryEnd,
                records.directorySize == directoryEnd - records.directoryOffset
            else {
                throw ArchiveError(
                    .corrupt, "the central directory does not end where the end records begin (data before or after it)"
                )
            }
            return records
        }

        /// The ZIP64 end record the locator at `locatorOffset` points to; returns it and where it starts.
        private static func zip64(
            in source: some ByteSource, locatorAt locatorOffset: UInt64
        ) throws(ArchiveError) -> (EndRecords, UInt64) {
            var locator = LittleEndianReader(
                try source.bytes(at: locatorOffset, length: 20), at: 4, what: "the ZIP64 end locator")
            let recordDisk = try locator.u32()
            let recordOffset = try locator.u64()
            let disks = try locator.u32()
            guard recordDisk == 0, disks == 1 else { throw ArchiveError(.multiDisk, "the archive spans several disks") }
            guard recordOffset <= locatorOffset, locatorOffset - recordOffset >= 56 else {
                throw ArchiveError(.corrupt, "the ZIP64 end locator points outside the archive")
            }
            var record = LittleEndianReader(
                try source.bytes(at: recordOffset, length: 56), what: "the ZIP64 end record")
            guard try record.u32() == 0x0606_4b50 else {
                throw ArchiveError(.corrupt, "no ZIP64 end record where its locator points")
            }
            let recordSize = try record.u64()
            guard recordSize.addingReportingOverflow(12).partialValue == locatorOffset - recordOffset else {
                throw ArchiveError(.corrupt, "the ZIP64 end record does not end at its locator")
            }
            try record.skip(4)
            let disk = try record.u32()
            let directoryDisk = try record.u32()
            let entriesOnDisk = try record.u64()
            let entries = try record.u64()
            let directorySize = try record.u64()
            let directoryOffset = try record.u64()
            guard disk == 0, directoryDisk == 0, entriesOnDisk == entries else {
                throw ArchiveError(.multiDisk, "the archive spans several disks")
            }
            return (
                EndRecords(entries: entries, directorySize: directorySize, directoryOffset: directoryOffset),
                recordOffset
            )
        }
    }

    /// One central-directory record at the reader's position.
    private static func centralRecord(_ reader: inout LittleEndianReader, index: Int) throws(ArchiveError) -> Record {
        guard try reader.u32() == 0x0201_4b50 else {
            throw ArchiveError(.corrupt, "central-directory entry \(index + 1) has no signature")
        }
        let madeBy = try reader.u16()
        try reader.skip(2)
        let flags = try reader.u16()
        let method = try reader.u16()
        try reader.skip(4)
        let crc = try reader.u32()
        var compressedSize = UInt64(try reader.u32())
        var size = UInt64(try reader.u32())
        let nameLength = Int(try reader.u16())
        let extraLength = Int(try reader.u16())
        let commentLength = Int(try reader.u16())
        var diskStart = UInt32(try reader.u16())
        try reader.skip(2)
        let external = try reader.u32()
        var offset = UInt64(try reader.u32())
        let name = Array(try reader.take(nameLength))
        let shown = displayName(name)
        let extra = Array(try reader.take(extraLength))
        try reader.skip(commentLength)
        if let zip64 = try ExtraFields(extra, entry: shown).field(0x0001) {
            var fields = LittleEndianReader(zip64, what: "\(shown)'s ZIP64 field")
            if size == 0xffff_ffff { size = try fields.u64() }
            if compressedSize == 0xffff_ffff { compressedSize = try fields.u64() }
            if offset == 0xffff_ffff { offset = try fields.u64() }
            if diskStart == 0xffff { diskStart = try fields.u32() }
        }
        if flags & 0x0001 != 0 || flags & 0x0040 != 0 || flags & 0x2000 != 0 {
            throw ArchiveError(.encrypted, "the entry is encrypted", entry: shown)
        }
        guard diskStart == 0 else { throw ArchiveError(.multiDisk, "the entry starts on another disk", entry: shown) }
        switch method {
        case 0:
            guard compressedSize == size else {
                throw ArchiveError(
                    .sizeMismatch, "a stored entry of \(compressedSize) bytes declares \(size) bytes", entry: shown)
            }
        case 8:
            guard size <= 1 << 20 || size / 1100 <= compressedSize else {
                throw ArchiveError(
                    .sizeMismatch, "\(compressedSize) compressed bytes cannot inflate to the \(size) declared",
                    entry: shown)
            }
        default:
            throw ArchiveError(
                .unsupportedMethod, "compression method \(method) (only stored and deflate are read)", entry: shown)
        }
        return Record(
            index: index, name: name, flags: flags, method: method, crc32: crc, compressedSize: compressedSize,
            size: size, localHeaderOffset: offset, dataOffset: 0, madeBy: madeBy, externalAttributes: external)
    }

    /// Checks `record`'s local header against it; returns where its data starts.
    private static func checkLocalHeader(
        of record: Record, in source: some ByteSource, before directoryOffset: UInt64
    ) throws(ArchiveError) -> UInt64 {
        let shown = record.shownName
        guard record.localHeaderOffset <= directoryOffset, directoryOffset - record.localHeaderOffset >= 30 else {
            throw ArchiveError(.overlap, "the local header is not before the central directory", entry: shown)
        }
        var header = LittleEndianReader(
            try source.bytes(at: record.localHeaderOffset, length: 30), what: "\(shown)'s local header")
        guard try header.u32() == 0x0403_4b50 else {
            throw ArchiveError(.headerMismatch, "no local header where the central directory points", entry: shown)
        }
        try header.skip(2)
        let flags = try header.u16()
        let method = try header.u16()
        try header.skip(4)
        let crc = try header.u32()
        var compressedSize = UInt64(try header.u32())
        var size = UInt64(try header.u32())
        let nameLength = Int(try header.u16())
        let extraLength = Int(try header.u16())
        let variable = try source.bytes(at: record.localHeaderOffset + 30, length: nameLength + extraLength)
        guard variable[..<nameLength].elementsEqual(record.name) else {
            throw ArchiveError(
                .headerMismatch, "the local header names \(displayName(variable[..<nameLength])) instead", entry: shown)
        }
        guard method == record.method, flags & 0x0809 == record.flags & 0x0809 else {
            throw ArchiveError(
                .headerMismatch, "the local header's method or flags differ from the central directory", entry: shown)
        }
        if let zip64 = try ExtraFields(Array(variable[nameLength...]), entry: shown).field(0x0001) {
            var fields = LittleEndianReader(zip64, what: "\(shown)'s local ZIP64 field")
            if size == 0xffff_ffff { size = try fields.u64() }
            if compressedSize == 0xffff_ffff { compressedSize = try fields.u64() }
        }
        // With a data descriptor (flag 3) the local header may hold zeros; what it holds must agree.
        let described = flags & 0x0008 != 0
        let agrees = { (local: UInt64, central: UInt64) in local == central || (described && local == 0) }
        guard agrees(UInt64(crc), UInt64(record.crc32)), agrees(compressedSize, record.compressedSize),
            agrees(size, record.size)
        else {
            throw ArchiveError(
                .headerMismatch, "the local header's CRC-32 or sizes differ from the central directory", entry: shown)
        }
        return record.localHeaderOffset + 30 + UInt64(nameLength + extraLength)
    }

    /// Every entry's bytes (local header to the end of its data and descriptor) are disjoint and
    /// before the central directory.
    private static func checkDisjoint(
        _ records: [Record], directoryOffset: UInt64, dataOffset: (Record) -> UInt64
    ) throws(ArchiveError) {
        for (position, record) in records.enumerated() {
            // A data descriptor is at least 12 bytes (CRC-32 and two 4-byte sizes).
            let descriptor: UInt64 = record.flags & 0x0008 != 0 ? 12 : 0
            let (end, overflow) = dataOffset(record).addingReportingOverflow(record.compressedSize &+ descriptor)
            let limit = position + 1 < records.count ? records[position + 1].localHeaderOffset : directoryOffset
            guard !overflow, end <= limit else {
                let what = position + 1 < records.count ? records[position + 1].shownName : "the central directory"
                throw ArchiveError(.overlap, "its bytes run into \(what)", entry: record.shownName)
            }
        }
    }
}

/// The extra fields of a header: `(id, length, data)` triples; fewer than four bytes left over
/// are padding (zipalign writes it), a field running past the end is corrupt.
private struct ExtraFields {
    private var fields: [UInt16: [UInt8]] = [:]

    init(_ bytes: [UInt8], entry: String) throws(ArchiveError) {
        var reader = LittleEndianReader(bytes, what: "\(entry)'s extra fields")
        while reader.remaining > 0 {
            guard reader.remaining >= 4 else { break }
            let id = try reader.u16()
            let length = Int(try reader.u16())
            let data = Array(try reader.take(length))
            if fields[id] == nil { fields[id] = data }
        }
    }

    func field(_ id: UInt16) -> [UInt8]? { fields[id] }
}

import Archive
import Artifacts
import Glibc

/// Feeds arbitrary bytes (mutated zips, from the seed corpus) to the archive check `pull` runs
/// before it writes anything: the central-directory check on the bytes in memory, then the whole
/// check (libarchive's headers, every name, kind, size and link target) on the same bytes in an
/// unnamed file. It must refuse with an `ArtifactError` or admit a plan, never crash; a plan
/// admits only relative paths without `.`, `..` or empty components, links that stay inside, and
/// sizes within the limits; an error message holds no control character.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let directory = try ZipDirectory.read(MemoryBytes(bytes), maxEntries: 1000)
        var previousEnd: UInt64 = 0
        for record in directory.records {
            precondition(record.localHeaderOffset >= previousEnd, "overlapping entries admitted")
            previousEnd = record.dataOffset + record.compressedSize
            precondition(previousEnd <= directory.directoryOffset, "an entry runs into the central directory")
        }
    } catch {
        precondition(!"\(error)".unicodeScalars.contains { $0.value < 0x20 }, "a control character in \(error)")
    }
    let file = open("/dev/shm", 0o20_000_000 | O_DIRECTORY | O_RDWR, 0o600)
    guard file >= 0 else { return 0 }
    defer { close(file) }
    _ = bytes.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
    let limits = ExtractionLimits(maxSize: 1 << 30, maxEntries: 1000, maxArchive: 1 << 30)
    for format in [ArtifactFormat.zip, .tar, .tgz] {
        do {
            let plan = try ArchiveExtraction.check(descriptor: file, format: format, limits: limits, freeBytes: 1 << 40)
            precondition(plan.totalSize <= limits.maxSize && plan.entries.count <= limits.maxEntries)
            for case let entry? in plan.entries {
                precondition(!entry.path.components.isEmpty, "an entry at the root")
                precondition(
                    entry.path.components.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("/") },
                    "an unsafe path admitted: \(entry.path.text)")
                precondition(entry.permissions & 0o7000 == 0, "a special bit kept")
                if case .symlink(let target) = entry.kind {
                    precondition(entry.path.resolving(Array(target.utf8)) != nil, "a link out admitted")
                }
            }
        } catch {
            precondition(
                !error.message.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" },
                "a control character in \(error)")
        }
    }
    return 0
}

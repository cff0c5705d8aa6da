import Archive
import Artifacts
import Testing

@Suite struct ExtractionPlanTests {
    typealias Candidate = ExtractionPlan.Candidate

    static func file(_ name: String, size: UInt64 = 1, mode: UInt32 = 0o644) -> Candidate {
        Candidate(name: Array(name.utf8), kind: .file(size: size, crc32: nil), permissions: mode, modified: 0)
    }

    static func directory(_ name: String, mode: UInt32 = 0o755) -> Candidate {
        Candidate(name: Array(name.utf8), kind: .directory, permissions: mode, modified: 0)
    }

    static func link(_ name: String, _ target: String) -> Candidate {
        Candidate(name: Array(name.utf8), kind: .symlink(target: Array(target.utf8)), permissions: 0o777, modified: 0)
    }

    static func code(
        _ candidates: [Candidate], limits: ExtractionLimits = ExtractionLimits(), free: UInt64 = 1 << 40
    )
        -> String?
    {
        switch ExtractionPlan.make(candidates, limits: limits, freeBytes: free) {
        case .success: nil
        case .failure(let error): error.code.rawValue
        }
    }

    @Test func implicitDirectoriesAreMadeParentsFirstAndExplicitOnesKeepTheirModes() throws {
        let plan = try ExtractionPlan.make(
            [Self.file("a/b/c.txt"), Self.directory("a/", mode: 0o700), Self.link("a/l", "b/c.txt")],
            limits: ExtractionLimits(), freeBytes: 1 << 30
        ).get()
        #expect(plan.directories.map(\.text) == ["a", "a/b"])
        #expect(plan.directoryModes.keys.map(\.text) == ["a"])
        #expect(plan.directoryModes.values.first?.permissions == 0o700)
        #expect(plan.files == 1 && plan.symlinks == 1 && plan.totalSize == 1)
    }

    @Test func setuidSetgidAndStickyAreDroppedAndCounted() throws {
        let plan = try ExtractionPlan.make(
            [Self.file("s", mode: 0o4755), Self.directory("t/", mode: 0o1777), Self.file("plain")],
            limits: ExtractionLimits(), freeBytes: 1 << 30
        ).get()
        #expect(plan.specialBitsDropped == 2)
        #expect(plan.entries.compactMap { $0?.permissions } == [0o755, 0o777, 0o644])
    }

    @Test func theRootEntryIsSkipped() throws {
        let plan = try ExtractionPlan.make(
            [Self.directory("./", mode: 0o777), Self.file("x")], limits: ExtractionLimits(), freeBytes: 1 << 30
        ).get()
        #expect(plan.entries.count == 2 && plan.entries[0] == nil && plan.directories.isEmpty)
    }

    @Test func duplicatesAndAFileWhereADirectoryIsNeededAreRefused() {
        #expect(Self.code([Self.file("a"), Self.file("a")]) == "DuplicateEntry")
        #expect(Self.code([Self.directory("a/"), Self.directory("a/")]) == "DuplicateEntry")
        #expect(Self.code([Self.file("a"), Self.directory("a/")]) == "DuplicateEntry")
        #expect(Self.code([Self.file("a"), Self.file("a/b")]) == "DuplicateEntry")
        #expect(Self.code([Self.file("a/"), Self.file("b")]) == "UnsafeName")
    }

    @Test func linksThatEscapeOrAreWalkedThroughAreRefused() {
        #expect(Self.code([Self.link("l", "/etc")]) == "SymlinkEscapes")
        #expect(Self.code([Self.link("d/l", "../../x")]) == "SymlinkEscapes")
        #expect(Self.code([Self.link("x/s", ".."), Self.link("l", "x/s/..")]) == "SymlinkEscapes")
        #expect(Self.code([Self.link("l", "sub"), Self.file("l/x")]) == "PathThroughSymlink")
        #expect(Self.code([Self.link("d", "."), Self.file("d/d/x")]) == "PathThroughSymlink")
        #expect(Self.code([Self.link("a/b", "../c"), Self.file("c")]) == nil, "a link to a sibling directory's file")
    }

    @Test func specialFilesHardLinksAndLimitsAreRefused() {
        let fifo = Candidate(name: Array("p".utf8), kind: .special, permissions: 0o644, modified: 0)
        let hard = Candidate(name: Array("h".utf8), kind: .hardlink, permissions: 0o644, modified: 0)
        #expect(Self.code([fifo]) == "SpecialFile")
        #expect(Self.code([hard]) == "HardLink")
        #expect(
            Self.code([Self.file("a"), Self.file("b")], limits: ExtractionLimits(maxEntries: 1)) == "TooManyEntries")
        #expect(
            Self.code([Self.file("a", size: 600), Self.file("b", size: 600)], limits: ExtractionLimits(maxSize: 1000))
                == "TooLarge")
        #expect(Self.code([Self.file("a", size: UInt64.max), Self.file("b", size: 2)]) == "TooLarge")
        #expect(Self.code([Self.file("a", size: 1 << 20)], free: 1 << 19) == "NotEnoughSpace")
    }
}

import Artifacts
import Testing

@Suite struct EntryPathTests {
    /// The code a name is refused with, or nil when it is admitted.
    static func refusal(_ name: [UInt8]) -> String? {
        switch EntryPath.parse(name) {
        case .success: nil
        case .failure(let error): error.code.rawValue
        }
    }

    @Test(arguments: [
        ("", "UnsafeName"), ("a\u{0}b", "UnsafeName"), ("a\nb", "UnsafeName"), ("a\u{7f}", "UnsafeName"),
        ("/etc/passwd", "AbsolutePath"), ("../x", "DotDotComponent"), ("a/../../x", "DotDotComponent"),
        ("a/..", "DotDotComponent"), ("a\\b", "BackslashInName"), ("..\\x", "BackslashInName"), ("a//b", "UnsafeName"),
        ("a/./b", "UnsafeName"), ("./../x", "DotDotComponent"),
    ])
    func aNameIsRefused(name: String, code: String) {
        #expect(Self.refusal(Array(name.utf8)) == code)
    }

    @Test func bytesThatAreNotUTF8AreRefusedWhateverTheFlag() {
        #expect(Self.refusal([0x63, 0x61, 0x66, 0xe9]) == "InvalidUTF8Name")
        #expect(Self.refusal([0xff]) == "InvalidUTF8Name")
    }

    @Test func tooLongTooDeepAndTooLongAComponentAreRefused() {
        #expect(Self.refusal(Array(String(repeating: "a", count: 256).utf8)) == "UnsafeName")
        #expect(Self.refusal(Array(String(repeating: "a", count: 255).utf8)) == nil)
        #expect(Self.refusal(Array(Array(repeating: "d", count: 257).joined(separator: "/").utf8)) == "UnsafeName")
        #expect(
            Self.refusal(
                Array((Array(repeating: String(repeating: "x", count: 200), count: 21)).joined(separator: "/").utf8))
                == "UnsafeName")
    }

    @Test func oneLeadingDotSlashIsDroppedAndATrailingSlashIsADirectory() throws {
        let parsed = try EntryPath.parse(Array("./a/b/".utf8)).get()
        guard case .entry(let path, let directory) = parsed else {
            Issue.record("not an entry")
            return
        }
        #expect(path.components == ["a", "b"] && directory)
        #expect(try EntryPath.parse(Array("./".utf8)).get() == .root)
        #expect(try EntryPath.parse(Array(".".utf8)).get() == .root)
        #expect(try EntryPath.parse(Array("ünï/ß.txt".utf8)).get() != .root)
    }

    static func path(_ text: String) throws -> EntryPath {
        guard case .entry(let path, _) = try EntryPath.parse(Array(text.utf8)).get() else { throw Unexpected() }
        return path
    }

    struct Unexpected: Error {}

    @Test func aLinkResolvesFromItsDirectoryAndNeverAboveTheRoot() throws {
        let link = try Self.path("node_modules/.bin/x")
        #expect(link.resolving(Array("../pkg/cli.js".utf8))?.text == "node_modules/pkg/cli.js")
        #expect(link.resolving(Array("../../top".utf8))?.text == "top")
        #expect(link.resolving(Array("../../../out".utf8)) == nil)
        #expect(link.resolving(Array("/etc/passwd".utf8)) == nil)
        #expect(link.resolving([]) == nil)
        #expect(link.resolving(Array("a\\b".utf8)) == nil)
        #expect(link.resolving([0xff]) == nil)
        #expect(try Self.path("l").resolving(Array(".".utf8))?.components == [])
    }

    @Test func aLinkMayNotGoOnPastAnotherLink() throws {
        let link = try Self.path("l")
        let isS = { (path: EntryPath) in path.text == "x/s" }
        #expect(link.resolving(Array("x/s/..".utf8), isLink: isS) == nil)
        #expect(link.resolving(Array("x/s".utf8), isLink: isS)?.text == "x/s", "a link may lead to a link")
        #expect(link.resolving(Array("x/t/..".utf8), isLink: isS)?.text == "x")
    }
}

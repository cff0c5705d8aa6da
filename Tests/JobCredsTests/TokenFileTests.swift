import Foundation
import JobCreds
import Testing

@Suite struct TokenFileTests {
    static let longToken = "operator-token-0123456789abcdef0123"

    /// An existing token file holding `content` with `mode`.
    func existingFile(_ content: String = TokenFileTests.longToken, mode: Int) throws -> String {
        let path = try directory().appendingPathComponent("token").path
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    /// Loading `path` is refused with a message that contains `why`.
    func expectRefused(_ path: String, _ why: String) {
        #expect {
            _ = try TokenFile.loadOrCreate(at: path, mode: 0o600)
        } throws: { ($0 as? JobCredsError)?.message.contains(why) == true }
    }

    func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func createsA256BitHexTokenWithoutNewlineAndTheExactMode() throws {
        let path = try directory().appendingPathComponent("token").path
        let (token, created) = try TokenFile.loadOrCreate(at: path, mode: 0o640)
        #expect(created)
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(onDisk) == token)
        #expect(token.count == 64 && token.allSatisfy { Array("0123456789abcdef".utf8).contains($0) })
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o640)
        let (again, createdAgain) = try TokenFile.loadOrCreate(at: path, mode: 0o600)
        #expect(again == token && !createdAgain)
        let other = try TokenFile.loadOrCreate(at: try directory().appendingPathComponent("t").path, mode: 0o600)
        #expect(other.token != token)
    }

    @Test(arguments: [
        ("", "empty"), ("abc\n", "line break"), ("a\rb", "line break"), ("x", "fewer than 32"),
        (String(repeating: "x", count: 31), "fewer than 32"), ("operator token 0123456789abcdef0123", "a space"),
        ("operator-token-0123456789abcdef0123\u{7F}", "not printable"),
    ])
    func refusesBadExistingFiles(_ content: String, _ why: String) throws {
        expectRefused(try existingFile(content, mode: 0o600), why)
    }

    @Test func refusesATokenFileOthersCanRead() throws {
        let path = try existingFile(mode: 0o644)
        expectRefused(path, "readable by others")
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        #expect(try TokenFile.loadOrCreate(at: path, mode: 0o600).token == Array(Self.longToken.utf8))
    }

    @Test func neverFollowsASymlink() throws {
        let dir = try directory()
        let link = dir.appendingPathComponent("token").path
        try FileManager.default.createSymbolicLink(
            atPath: link, withDestinationPath: dir.appendingPathComponent("elsewhere").path)
        #expect(throws: JobCredsError.self) { _ = try TokenFile.loadOrCreate(at: link, mode: 0o600) }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("elsewhere").path))
    }

    @Test func modes() throws {
        #expect(try TokenFile.parseMode("0600") == 0o600)
        #expect(try TokenFile.parseMode("640") == 0o640)
        for bad in ["0644", "0400", "0777", "x", "01600"] {
            #expect(throws: JobCredsError.self) { try TokenFile.parseMode(bad) }
        }
    }

    /// Files the sidecar must not trust (issue 14, finding 6): each refusal names the file.
    @Test func refusesAFIFOWithoutHanging() throws {
        let path = try directory().appendingPathComponent("token").path
        #expect(mkfifo(path, 0o600) == 0)
        expectRefused(path, "\(path) is not a regular file")
    }

    @Test func refusesAFileItsGroupCanWrite() throws {
        expectRefused(try existingFile(mode: 0o620), "writable by its group or others")
    }

    @Test(.enabled(if: geteuid() == 0, "only root can give a file away (CI runs as root)"))
    func refusesAFileOfAnotherUser() throws {
        let path = try existingFile(mode: 0o600)
        #expect(chown(path, 65534, 65534) == 0)
        expectRefused(path, "is owned by user 65534")
    }
}

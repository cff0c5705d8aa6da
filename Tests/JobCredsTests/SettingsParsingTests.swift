import Foundation
import JobCreds
import Testing

@Suite struct ListenAddressTests {
    @Test(arguments: [
        ("127.0.0.1:9911", "127.0.0.1:9911"), ("127.1.2.3:0", "127.1.2.3:0"), ("[::1]:9911", "[::1]:9911"),
        ("169.254.170.2:80", "169.254.170.2:80"), ("169.254.170.23:80", "169.254.170.23:80"),
        ("[fd00:ec2::23]:80", "[fd00:ec2::23]:80"), ("[FD00:EC2::23]:80", "[fd00:ec2::23]:80"),
    ])
    func acceptsWhatTheSDKsUse(_ text: String, _ normalized: String) throws {
        #expect(try ListenAddress(text).description == normalized)
    }

    @Test(arguments: [
        "0.0.0.0:9911", "10.0.0.1:9911", "[::]:9911", "169.254.169.254:80", "localhost:9911", "127.0.0.1",
        "127.0.0.1:65536", ":9911", "[::1]9911", "::1:9911", "127.0.0.256:1", "128.0.0.1:1",
    ])
    func refusesEverythingElse(_ text: String) {
        #expect {
            _ = try ListenAddress(text)
        } throws: { ($0 as? JobCredsError)?.code == .usage }
    }
}

@Suite struct DurationTextTests {
    @Test func parsesAndFormats() throws {
        #expect(try DurationText.parse("90s", option: "--x") == .seconds(90))
        #expect(try DurationText.parse("15m", option: "--x") == .seconds(900))
        #expect(try DurationText.parse("1h30m", option: "--x") == .seconds(5400))
        #expect(DurationText.format(.seconds(900)) == "15m")
        #expect(DurationText.format(.seconds(5401)) == "1h30m1s")
        for bad in ["", "15", "m", "0s", "1.5m", "15 m", "-1s", "99999999s", "1d"] {
            #expect(throws: JobCredsError.self) { try DurationText.parse(bad, option: "--x") }
        }
    }
}

@Suite struct TokenFileTests {
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

    @Test(arguments: [("", "empty"), ("abc\n", "line break"), ("a\rb", "line break")])
    func refusesBadExistingFiles(_ content: String, _ why: String) throws {
        let path = try directory().appendingPathComponent("token").path
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect {
            _ = try TokenFile.loadOrCreate(at: path, mode: 0o600)
        } throws: { ($0 as? JobCredsError)?.message.contains(why) == true }
    }

    @Test func refusesATokenFileOthersCanRead() throws {
        let path = try directory().appendingPathComponent("token").path
        try "token".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect {
            _ = try TokenFile.loadOrCreate(at: path, mode: 0o600)
        } throws: { ($0 as? JobCredsError)?.message.contains("readable by others") == true }
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        #expect(try TokenFile.loadOrCreate(at: path, mode: 0o600).token == Array("token".utf8))
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
}

@Suite struct JSONTextTests {
    @Test func escapesEverythingThatCouldBreakALine() throws {
        let nasty = "a\"b\\c\nd\re\tf\u{0}g\u{1b}h\u{7f}i\u{2028}j\u{2029}kλ"
        let quoted = JSONText.quote(nasty)
        #expect(!quoted.contains("\n") && !quoted.contains("\r") && !quoted.contains("\u{2028}"))
        let decoded = try JSONDecoder().decode(String.self, from: Data(quoted.utf8))
        #expect(decoded == nasty)
        #expect(JSONText.object([("a", "1"), ("b", nil), ("c", JSONText.quote("x"))]) == #"{"a":1,"c":"x"}"#)
    }

    /// The byte-level escaper against JSON's own decoder, on random strings drawn from the
    /// characters that matter (quotes, backslashes, controls, DEL, the line separators, other
    /// multi-byte UTF-8 including U+2027 and U+202A around the separators).
    @Test func escapingRoundTripsRandomStrings() throws {
        let alphabet: [Character] = [
            "a", "Z", "0", " ", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1f}", "\u{7f}", "\u{2027}", "\u{2028}",
            "\u{2029}", "\u{202a}", "λ", "€", "😀", "\u{e2}",
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<24, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            let quoted = JSONText.quote(text)
            #expect(
                !quoted.unicodeScalars.contains {
                    $0.value < 0x20 || $0.value == 0x7F || $0 == "\u{2028}" || $0 == "\u{2029}"
                })
            #expect(try JSONDecoder().decode(String.self, from: Data(quoted.utf8)) == text)
        }
    }

    @Test func objectWriterWritesFieldsInOrderAndSkipsNil() {
        var writer = JSONText.ObjectWriter()
        writer.string("s", "x\"y")
        writer.string("skipped", nil)
        writer.integer("n", -42)
        writer.raw("b", "true")
        writer.unescaped("t") { $0.append(contentsOf: Array("2026".utf8)) }
        #expect(String(decoding: writer.finish(), as: UTF8.self) == #"{"s":"x\"y","n":-42,"b":true,"t":"2026"}"#)
    }
}

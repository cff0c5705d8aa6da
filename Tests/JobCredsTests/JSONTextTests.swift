import Foundation
import JobCreds
import Testing

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

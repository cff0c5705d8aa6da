/// Reads the text of simple XML elements (STS answers are flat enough for this).
enum XMLText {
    /// The unescaped text of the first `<name>…</name>`, or nil.
    static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.firstRange(of: "<\(name)>"),
            let close = xml[open.upperBound...].firstRange(of: "</\(name)>")
        else { return nil }
        return unescape(xml[open.upperBound..<close.lowerBound])
    }

    private static func unescape(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        return String(
            text.replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
                .replacing("&apos;", with: "'").replacing("&amp;", with: "&"))
    }
}

/// Reads the text of simple XML elements, and escapes text for them: AWS's XML answers (STS, and
/// S3's multipart ones) are flat enough for this, with no attributes on the elements read and no
/// element nested in one of its own name.
public enum XMLText {
    /// The unescaped text of the first `<name>…</name>`, or nil.
    public static func element(_ name: String, in xml: some StringProtocol) -> String? {
        elements(name, in: xml).first.map(unescape)
    }

    /// The raw text of every `<name>…</name>`, in order (each may hold elements of its own).
    public static func elements(_ name: String, in xml: some StringProtocol) -> [Substring] {
        let text = Substring(xml)
        var found: [Substring] = []
        var rest = text[...]
        while let open = rest.firstRange(of: "<\(name)>"),
            let close = rest[open.upperBound...].firstRange(of: "</\(name)>")
        {
            found.append(rest[open.upperBound..<close.lowerBound])
            rest = rest[close.upperBound...]
        }
        return found
    }

    /// `text` with `&`, `<`, `>` and `"` escaped, for an element's text.
    public static func escaped(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
            .replacing("\"", with: "&quot;")
    }

    private static func unescape(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        return String(
            text.replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
                .replacing("&apos;", with: "'").replacing("&amp;", with: "&"))
    }
}

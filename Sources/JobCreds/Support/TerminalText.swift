/// Text for a terminal or a line-based log, from strings that may come from elsewhere
/// (CodePipeline's answers and headers, artifact names, a request's bytes): control characters
/// (C0, DEL, C1) and the Unicode characters that reorder or break lines (bidirectional overrides
/// and isolates, line and paragraph separators) are written as `\u{…}`, so no upstream string
/// can move the cursor, ring the bell, rewrite a line or forge a new one.
public enum TerminalText {
    /// `text` with every control character escaped; `text` itself when it has none (no copy).
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x2028, 0x2029, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}

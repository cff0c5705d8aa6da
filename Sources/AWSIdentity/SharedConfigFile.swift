/// The INI dialect of `~/.aws/credentials` and `~/.aws/config`.
///
/// Sections are `[name]` (credentials file) or `[profile name]` / `[default]` (config file);
/// `key = value` pairs; `#` and `;` start comments; indented lines continue a nested block,
/// which is skipped (jobcreds reads no nested settings).
struct SharedConfigFile {
    /// Section name → key → value. Config-file sections are stored under the bare profile name.
    private(set) var profiles: [String: [String: String]] = [:]

    /// Parses `text`. `isConfigFile` strips the `profile ` prefix from section names.
    init(_ text: String, isConfigFile: Bool) {
        var current: String? = nil
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if rawLine.first == " " || rawLine.first == "\t" { continue }  // nested block
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                var name = line.dropFirst().dropLast().trimmingWhitespace()
                if isConfigFile, name.hasPrefix("profile ") {
                    name = name.dropFirst("profile ".count).trimmingWhitespace()
                } else if isConfigFile, name != "default" {
                    current = nil  // `[sso-session x]`, `[services x]`: not profiles
                    continue
                }
                current = String(name)
                profiles[String(name), default: [:]] = profiles[String(name), default: [:]]
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingWhitespace().lowercased()
            var value = String(line[line.index(after: equals)...].trimmingWhitespace())
            if let comment = value.firstRange(of: " #") ?? value.firstRange(of: " ;") {
                value = String(value[..<comment.lowerBound].trimmingWhitespace())
            }
            profiles[current, default: [:]][key] = String(value)
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks.
    func trimmingWhitespace() -> Substring {
        let trimmed = drop { $0 == " " || $0 == "\t" || $0.isNewline }
        var end = trimmed.endIndex
        while end > trimmed.startIndex {
            let before = trimmed.index(before: end)
            guard trimmed[before] == " " || trimmed[before] == "\t" || trimmed[before].isNewline else { break }
            end = before
        }
        return Substring(trimmed[trimmed.startIndex..<end])
    }
}

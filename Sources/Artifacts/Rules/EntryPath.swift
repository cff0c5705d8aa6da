import Archive

/// An archive entry's path, admitted: valid UTF-8, relative, every component a plain name.
///
/// Refused, each with its code: an empty name, NUL or another control character, a component
/// over 255 bytes, a path over 4,096 or deeper than 256 (`UnsafeName`); bytes that are not UTF-8
/// (`InvalidUTF8Name`, whatever the zip's UTF-8 flag says); a backslash (`BackslashInName`: a
/// separator to Windows tools); a leading `/` (`AbsolutePath`); a `..` component
/// (`DotDotComponent`); an empty or `.` component inside the path (`UnsafeName`). One leading
/// `./` is accepted and dropped (tar writes it; Jenkins #32), and a trailing `/` marks a directory.
public struct EntryPath: Sendable, Hashable, Comparable {
    /// The components, none empty, `.` or `..`.
    public let components: [String]

    /// The path, components joined by `/`.
    public var text: String { components.joined(separator: "/") }

    /// The path of the directory holding it (empty components for the root).
    public var parent: EntryPath { EntryPath(components: Array(components.dropLast())) }

    /// The last component.
    public var leaf: String { components.last ?? "" }

    /// The paths of the directories above it, outermost first.
    public var ancestors: [EntryPath] {
        (0..<max(components.count - 1, 0)).map { EntryPath(components: Array(components[...$0])) }
    }

    init(components: [String]) { self.components = components }

    public static func < (left: EntryPath, right: EntryPath) -> Bool {
        left.components.lexicographicallyPrecedes(right.components) { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// What a name admits to.
    public enum Parsed: Sendable, Equatable {
        /// An entry at `path`; `directory` when the name ended with `/`.
        case entry(EntryPath, directory: Bool)
        /// `./` or `.`: the extraction's root itself, which an archive does not get to change.
        case root
    }

    /// The longest path, component and depth admitted.
    static let maxBytes = 4096
    static let maxComponentBytes = 255
    static let maxDepth = 256

    /// Admits `bytes` as a path, or says why not.
    public static func parse(_ bytes: [UInt8]) -> Result<Parsed, ArtifactError> {
        let shown = displayName(bytes)
        func refuse(_ code: ArtifactError.Code, _ why: String) -> Result<Parsed, ArtifactError> {
            .failure(ArtifactError(code, "\(shown.isEmpty ? "an entry" : shown): \(why)"))
        }
        guard !bytes.isEmpty else { return refuse(.unsafeName, "an entry has an empty name") }
        guard bytes.count <= maxBytes else { return refuse(.unsafeName, "the name is over \(maxBytes) bytes") }
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7f }) {
            return refuse(.unsafeName, "the name holds a NUL or control character")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return refuse(.invalidUTF8Name, "the name is not valid UTF-8")
        }
        if bytes.contains(0x5c) { return refuse(.backslashInName, "the name holds a backslash") }
        if bytes.first == UInt8(ascii: "/") { return refuse(.absolutePath, "the name is an absolute path") }
        var body = Substring(text)
        if body.hasPrefix("./") { body = body.dropFirst(2) }
        let directory = body.hasSuffix("/")
        if directory { body = body.dropLast() }
        if body.isEmpty || body == "." { return .success(.root) }
        let components = body.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if components.contains("..") { return refuse(.dotDotComponent, "the name has a .. component") }
        if components.contains(where: { $0.isEmpty || $0 == "." }) {
            return refuse(.unsafeName, "the name has an empty or . component")
        }
        if components.contains(where: { $0.utf8.count > maxComponentBytes }) {
            return refuse(.unsafeName, "a component is over \(maxComponentBytes) bytes")
        }
        guard components.count <= maxDepth else { return refuse(.unsafeName, "the path is over \(maxDepth) deep") }
        return .success(.entry(EntryPath(components: components), directory: directory))
    }

    /// Where a symbolic link at `self` to `target` leads, resolved from the link's directory; nil
    /// when the target is empty, absolute, not UTF-8, holds a control character or a backslash,
    /// climbs out of the root, or goes on past a component for which `isLink` holds (the kernel
    /// follows that link before a later `..`, so lexical resolution would be wrong there).
    public func resolving(_ target: [UInt8], isLink: (EntryPath) -> Bool = { _ in false }) -> EntryPath? {
        guard !target.isEmpty, target.count < Self.maxBytes, target.first != UInt8(ascii: "/"),
            !target.contains(where: { $0 < 0x20 || $0 == 0x7f || $0 == 0x5c }),
            let text = String(validating: target, as: UTF8.self)
        else { return nil }
        var resolved = parent.components
        for component in text.split(separator: "/", omittingEmptySubsequences: true) {
            if !resolved.isEmpty, isLink(EntryPath(components: resolved)) { return nil }
            switch component {
            case ".": continue
            case "..":
                guard !resolved.isEmpty else { return nil }
                resolved.removeLast()
            default: resolved.append(String(component))
            }
        }
        return EntryPath(components: resolved)
    }
}

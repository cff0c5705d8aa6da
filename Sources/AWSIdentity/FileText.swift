#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Reads small text files (profiles, token files) whole.
enum FileText {
    /// The file's contents as UTF-8, or nil if it does not exist or cannot be read.
    static func read(_ path: String) -> String? {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

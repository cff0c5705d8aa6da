import CodePipeline
import Glibc
import JobCreds

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What the build leaves in `JOBCREDS_RESULT_DIR`: `summary`, `external-execution-id` and
/// `output-variables.json`, each optional.
///
/// The directory is the build's, so everything in it is hostile: it is opened from the
/// workspace descriptor down, never through a symbolic link (`O_NOFOLLOW` at every step), each
/// file must be a regular file with one link, of the build's user, and of a bounded size; a FIFO
/// cannot hang the read (`O_NONBLOCK`).
struct ResultDirectory {
    /// The directory's name in the workspace.
    static let name = ".jobcreds-result"
    /// The most bytes of `summary` and `external-execution-id` read (the texts are clamped after).
    static let textLimit = 16 * 1024

    /// What the build left.
    struct Contents: Equatable {
        var summary: String?
        var externalExecutionId: String?
        var outputVariables: [String: String]

        /// The same with every secret value the worker knows removed from each text (the build
        /// could write the credentials it fetched into any of them).
        /// - Throws: `JobCredsError.usage` for an output variable whose key holds one (a key
        ///   cannot be scrubbed and still be a key).
        func scrubbed(by scrubber: Scrubber) throws(JobCredsError) -> Contents {
            for key in outputVariables.keys where scrubber.scrub(key) != key {
                throw JobCredsError(
                    .usage, "\(ResultDirectory.name)/output-variables.json: a key holds a value the worker keeps secret"
                )
            }
            return Contents(
                summary: summary.map(scrubber.scrub), externalExecutionId: externalExecutionId.map(scrubber.scrub),
                outputVariables: outputVariables.mapValues(scrubber.scrub))
        }
    }

    let workspace: String
    /// The build's uid, which must own the files (nil: the worker's own).
    let owner: UInt32?

    /// Reads the files.
    /// - Throws: `JobCredsError.usage` naming the file and what is wrong with it (the job then
    ///   fails with `ConfigurationError`).
    func read() throws(JobCredsError) -> Contents {
        let root = open(workspace, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { return Contents(outputVariables: [:]) }
        defer { close(root) }
        let directory = openat(root, Self.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directory >= 0 else {
            if errno == ENOENT { return Contents(outputVariables: [:]) }
            throw JobCredsError(.usage, "\(Self.name) in the workspace is not a directory the worker can read")
        }
        defer { close(directory) }
        let summary = try text(directory, "summary")
        let externalId = try text(directory, "external-execution-id")
        var variables: [String: String] = [:]
        if let bytes = try file(directory, "output-variables.json", limit: APIText.outputVariablesBytes * 2) {
            variables = try Self.outputVariables(bytes)
        }
        return Contents(summary: summary, externalExecutionId: externalId, outputVariables: variables)
    }

    /// An object of strings, keys `[A-Za-z0-9@_-]+`, at most 122,880 bytes of keys and values.
    static func outputVariables(_ bytes: [UInt8]) throws(JobCredsError) -> [String: String] {
        let name = "\(ResultDirectory.name)/output-variables.json"
        guard let object = try? JSONDecoder().decode([String: String].self, from: Data(bytes)) else {
            throw JobCredsError(.usage, "\(name) is not a JSON object whose values are strings")
        }
        var variables: [String: String] = [:]
        var size = 0
        for (key, text) in object {
            guard !key.isEmpty, key.utf8.allSatisfy(Self.isKeyByte) else {
                throw JobCredsError(
                    .usage, "\(name): the key \(Self.quoted(key)) is not made of letters, digits, @, - and _ only")
            }
            size += key.utf8.count + text.utf8.count
            variables[key] = text
        }
        guard size <= APIText.outputVariablesBytes else {
            throw JobCredsError(
                .usage,
                "\(name) holds \(size) bytes of keys and values; CodePipeline takes at most "
                    + "\(APIText.outputVariablesBytes)")
        }
        return variables
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
            || byte == UInt8(ascii: "@") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    private static func quoted(_ key: String) -> String {
        let printable = key.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f }
        return printable && key.count <= 64 ? "'\(key)'" : "(an unprintable or long key)"
    }

    /// A text file's content, trailing whitespace dropped; nil if missing or empty.
    private func text(_ directory: Int32, _ name: String) throws(JobCredsError) -> String? {
        guard let bytes = try file(directory, name, limit: Self.textLimit) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        let trimmed = String(text.reversed().drop { $0.isWhitespace }.reversed())
        return trimmed.isEmpty ? nil : trimmed
    }

    private func file(_ directory: Int32, _ name: String, limit: Int) throws(JobCredsError) -> [UInt8]? {
        let what = "\(Self.name)/\(name)"
        let descriptor = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw JobCredsError(.usage, "\(what) cannot be opened (\(Directories.reason())): write a regular file")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1 else {
            throw JobCredsError(.usage, "\(what) is not a regular file of one link: write a regular file")
        }
        guard info.st_uid == (owner ?? geteuid()) else {
            throw JobCredsError(.usage, "\(what) is not owned by the build's user")
        }
        guard info.st_size <= limit else {
            throw JobCredsError(.usage, "\(what) is larger than \(limit) bytes")
        }
        var content = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = content.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        guard count >= 0 else { throw JobCredsError(.usage, "\(what) cannot be read: \(Directories.reason())") }
        return Array(content[0..<count])
    }
}

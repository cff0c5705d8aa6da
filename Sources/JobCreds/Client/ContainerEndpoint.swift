import AWSIdentity
import Glibc
import HTTPTransport

/// The sidecar as the build container sees it: `AWS_CONTAINER_CREDENTIALS_FULL_URI` and the token
/// in `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, checked as the SDKs check them. What
/// `jobcreds exec` and `jobcreds credential-process` start from.
///
/// This side runs as the build's own user, so the token file is read as the SDKs read it (through
/// links; any owner): it must be a regular file of at most 4096 bytes with no line break.
public struct ContainerEndpoint: Sendable {
    /// The variable naming the credentials URL.
    public static let urlVariable = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
    /// The variable naming the token file.
    public static let tokenFileVariable = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"

    /// The credentials URL.
    public let url: EndpointURL
    /// The token file's path.
    public let tokenFile: String
    /// The token, as the file holds it.
    public let token: String

    /// Reads and checks both variables and the token file.
    /// - Throws: `JobCredsError.usage` naming the variable or file at fault and the fix.
    public init(environment: [String: String]) throws(JobCredsError) {
        guard let text = environment[Self.urlVariable], !text.isEmpty else {
            throw JobCredsError(
                .usage,
                "\(Self.urlVariable) is not set: give the build container the sidecar's URL, e.g. "
                    + "http://127.0.0.1:9911/v1/credentials")
        }
        do {
            url = try ContainerProvider.fullURI(text)
        } catch {
            throw JobCredsError(.usage, error.message, underlying: error)
        }
        guard let path = environment[Self.tokenFileVariable], !path.isEmpty else {
            throw JobCredsError(
                .usage,
                "\(Self.tokenFileVariable) is not set: give the build container the path of the sidecar's token "
                    + "file (its --token-file, on a shared volume)")
        }
        tokenFile = path
        token = try Self.readToken(path)
    }

    /// The sidecar's readiness probe beside the credentials URL: `/readyz` on the same host and port.
    public var readinessURL: String {
        "\(url.scheme)://\(url.hostHeader)/readyz"
    }

    private static func readToken(_ path: String) throws(JobCredsError) -> String {
        func refuse(_ why: String) -> JobCredsError {
            JobCredsError(.usage, "\(tokenFileVariable) \(path) \(why)")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw refuse(
                "cannot be read: \(String(cString: strerror(errno))) (is the sidecar's token volume mounted, "
                    + "and readable by this user?)")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw refuse("is not a regular file")
        }
        var bytes = [UInt8](repeating: 0, count: 4097)
        var count = 0
        while count < bytes.count {
            let read = bytes[count...].withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if read < 0, errno == EINTR { continue }
            guard read >= 0 else { throw refuse("cannot be read: \(String(cString: strerror(errno)))") }
            if read == 0 { break }
            count += read
        }
        guard count <= 4096 else { throw refuse("is larger than 4096 bytes: it is not a token file") }
        let token = bytes[..<count]
        guard !token.isEmpty else { throw refuse("is empty: the sidecar writes the token when it starts") }
        guard !token.contains(UInt8(ascii: "\n")), !token.contains(UInt8(ascii: "\r")),
            let text = String(validating: token, as: UTF8.self)
        else {
            throw refuse("holds a line break or is not text: it is not the sidecar's token file")
        }
        return text
    }
}

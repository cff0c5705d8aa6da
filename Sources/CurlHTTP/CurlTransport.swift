import Dispatch
import HTTPTransport
import Synchronization

/// The production `HTTPTransport`: libcurl with TLS verification always on.
///
/// Requests run on a private dispatch queue so that a blocking `curl_easy_perform` never
/// occupies a Swift concurrency thread. Handles are pooled, so connections are reused.
/// Proxies come from the usual `HTTPS_PROXY` / `https_proxy` / `NO_PROXY` variables, which
/// libcurl reads itself.
///
/// Thread-safety: `send` may be called concurrently from any number of tasks.
public final class CurlTransport: HTTPTransport {
    /// How the transport behaves. There is deliberately no switch to disable verification.
    public struct Settings: Sendable {
        /// A PEM file of extra CAs to trust (`--ca-bundle`, `AWS_CA_BUNDLE`).
        public var caBundle: String?
        /// The directory of the system's hashed CA certificates, kept trusted beside `caBundle`.
        public var systemCAPath: String
        /// The largest response body accepted, in bytes.
        public var maxResponseBytes: Int
        /// The `User-Agent` sent.
        public var userAgent: String?
        /// Whether the proxy variables apply (false for requests to loopback that must go direct).
        public var useProxy: Bool

        /// Creates settings.
        public init(
            caBundle: String? = nil, systemCAPath: String = "/etc/ssl/certs", maxResponseBytes: Int = 1 << 20,
            userAgent: String? = nil, useProxy: Bool = true
        ) {
            self.useProxy = useProxy
            self.caBundle = caBundle
            self.systemCAPath = systemCAPath
            self.maxResponseBytes = maxResponseBytes
            self.userAgent = userAgent
        }
    }

    private let settings: Settings
    private let pool = Mutex<[CurlEasyHandle]>([])
    private let queue = DispatchQueue(label: "jobcreds.curl", attributes: .concurrent)
    private let maxPooled = 4

    /// Creates a transport.
    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    public func send(_ request: HTTPRequest) async throws(HTTPTransportError) -> HTTPResponse {
        let result: Result<HTTPResponse, HTTPTransportError> = await withCheckedContinuation { continuation in
            queue.async { [self] in
                continuation.resume(returning: perform(request))
            }
        }
        return try result.get()
    }

    private func perform(_ request: HTTPRequest) -> Result<HTTPResponse, HTTPTransportError> {
        let reused = pool.withLock { $0.popLast() }
        let handle: CurlEasyHandle
        if let reused {
            handle = reused
        } else {
            do { handle = try CurlEasyHandle() } catch { return .failure(error) }
        }
        let result = Result { () throws(HTTPTransportError) in try handle.perform(request, settings: settings) }
        pool.withLock { handles in
            if handles.count < maxPooled { handles.append(handle) }
        }
        return result
    }
}

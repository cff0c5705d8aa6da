internal import CCurl
import HTTPTransport

/// libcurl's result codes as `HTTPTransportError`s, with a message that names the fix: the one
/// place a `CURLcode` becomes a Swift error.
extension HTTPTransportError {
    /// An error from `curl_easy_setopt`: a bug or an old libcurl, never the network.
    init(curlSetup code: CURLcode, option: String) {
        self.init(.other, "curl_easy_setopt(\(option)) failed: \(String(cString: curl_easy_strerror(code)))")
    }

    /// An error from `curl_easy_perform`.
    /// - Parameters:
    ///   - detail: libcurl's error buffer (may be empty).
    ///   - overLimit: whether the body callback refused a response larger than `limit`.
    init(curlCode code: CURLcode, detail: String, overLimit: Bool, limit: Int) {
        let summary = String(cString: curl_easy_strerror(code))
        let said = detail.isEmpty ? summary : detail
        let (kind, hint): (Code, String) =
            switch code {
            case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
                (.invalidURL, "check the endpoint URL")
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
                (.dnsFailure, "check the host name, the region, and DNS in this container")
            case CURLE_COULDNT_CONNECT:
                (.connectionRefused, "nothing accepted the connection: check the endpoint, the port and any firewall")
            case CURLE_OPERATION_TIMEDOUT:
                (.timedOut, "no answer in time: check network reachability and any proxy (HTTPS_PROXY, NO_PROXY)")
            case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM,
                CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR:
                (
                    .tlsFailure,
                    "the server's TLS certificate was not trusted; add its CA with --ca-bundle or AWS_CA_BUNDLE "
                        + "(verification cannot be turned off)"
                )
            case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
                (.connectionReset, "the connection broke mid-exchange; it is retried")
            case CURLE_FILESIZE_EXCEEDED:
                (.responseTooLarge, "the response is larger than \(limit) bytes and was refused")
            case CURLE_WRITE_ERROR where overLimit:
                (.responseTooLarge, "the response is larger than \(limit) bytes and was refused")
            default:
                (.other, "libcurl error \(code.rawValue)")
            }
        self.init(kind, "\(said) (\(hint))")
    }
}

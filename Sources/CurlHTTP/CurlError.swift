internal import CCurl
import HTTPTransport

/// Turns libcurl result codes into `HTTPTransportError`s with a message that names the fix.
///
/// This is the one place a `CURLcode` becomes a Swift error.
enum CurlError {
    /// An error from `curl_easy_setopt`: a bug or an old libcurl, never the network.
    static func setupError(_ code: CURLcode, option: String) -> HTTPTransportError {
        HTTPTransportError(.other, "curl_easy_setopt(\(option)) failed: \(String(cString: curl_easy_strerror(code)))")
    }

    /// An error from `curl_easy_perform`.
    static func transportError(_ code: CURLcode, detail: String, overLimit: Bool, limit: Int) -> HTTPTransportError {
        let summary = String(cString: curl_easy_strerror(code))
        let said = detail.isEmpty ? summary : detail
        let (kind, hint): (HTTPTransportError.Code, String) =
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
        return HTTPTransportError(kind, "\(said) (\(hint))")
    }
}

internal import CCurl

/// libcurl's process-wide initialisation, done exactly once before the first handle.
enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    /// Runs `curl_global_init` if it has not run yet. Thread-safe (Swift's lazy globals are).
    static func initialize() {
        precondition(initialized, "curl_global_init failed")
    }
}

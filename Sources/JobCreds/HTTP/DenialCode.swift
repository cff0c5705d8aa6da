/// Why a request was refused: the error body's `code`, the audit line's `reason` and the
/// `jobcreds_requests_denied_total` label. README's error table lists each one (a test holds them
/// together).
public enum DenialCode: String, Sendable, CaseIterable {
    /// 503: the listener is up but the gate is not installed yet.
    case starting = "Starting"
    /// 403: `Host` does not name the listen address (DNS rebinding).
    case hostNotAllowed = "HostNotAllowed"
    /// 403: the connection's user is not the one this listener serves (another job's build).
    case clientNotAllowed = "ClientNotAllowed"
    /// 403: `X-Forwarded-For`, `Forwarded` or `Origin`: a proxy or a browser.
    case forwardedRequestRefused = "ForwardedRequestRefused"
    /// 431: request line and headers over the limit (in bytes, or in header fields and query
    /// arguments).
    case headersTooLarge = "HeadersTooLarge"
    /// 413: a body, which no request here carries.
    case bodyNotAllowed = "BodyNotAllowed"
    /// 429: the client address's token bucket is empty.
    case rateLimited = "RateLimited"
    /// 405: not GET or HEAD.
    case methodNotAllowed = "MethodNotAllowed"
    /// 401: no `Authorization`.
    case missingToken = "MissingToken"
    /// 403: the wrong token.
    case invalidToken = "InvalidToken"
    /// 403: a valid token without the scope the route needs.
    case scopeNotGranted = "ScopeNotGranted"
    /// 404: no such path.
    case notFound = "NotFound"
    /// 404: no artifact of that name for that direction (inputs download, outputs upload).
    case artifactNotFound = "ArtifactNotFound"
    /// 400: a query the route does not take, or takes in another form.
    case invalidQuery = "InvalidQuery"
    /// 503: nothing valid is cached (yet, or any more).
    case credentialsUnavailable = "CredentialsUnavailable"
    /// 410: the job has ended.
    case jobEnded = "JobEnded"
    /// 503: the action type's declaration could not be had, so no configuration value is shown.
    case configurationUnavailable = "ConfigurationUnavailable"
    /// 400 on the instance-metadata listener: a session token asked for without a TTL of 1 to
    /// 21600 seconds.
    case invalidTokenTTL = "InvalidTokenTTL"
    /// 400: a request head that is not HTTP/1.1 as clients send it (a bad request line, HTTP/0.9,
    /// a bare LF, a control byte, a folded or nameless header line, a `Content-Length` that is not
    /// digits), refused before libmicrohttpd parses it.
    case malformedRequest = "MalformedRequest"
    /// 505: an HTTP version other than 1.0 and 1.1.
    case httpVersionNotSupported = "HTTPVersionNotSupported"
    /// 400: a multipart upload asked for with a length, part size, part range or checksums it
    /// cannot have (parts of 5 MiB to 5 GiB, at most 10,000, all but the last full).
    case invalidUpload = "InvalidUpload"
    /// 404: no multipart upload of that id is open for this token (another token's, completed,
    /// aborted, or never made).
    case uploadNotFound = "UploadNotFound"
    /// 409: complete asked while a part is missing, or holds another length or checksum than its
    /// URL was bound to.
    case uploadIncomplete = "UploadIncomplete"
    /// 409: as many uploads are open as a sidecar holds (16).
    case tooManyUploads = "TooManyUploads"
    /// 403 or 502: S3 refused a multipart call the sidecar made (its status and code in the message).
    case uploadFailed = "UploadFailed"
}

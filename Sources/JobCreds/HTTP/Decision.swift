import CodePipeline

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What the sidecar decided about one request: what its audit line records and its metrics count.
public struct Decision: Sendable, Equatable {
    /// Why a request was answered without a refusal: the audit line's `reason`.
    public enum Served: String, Sendable, CaseIterable {
        /// `/healthz`.
        case ok
        /// `/v1/credentials`: the artifact credentials were handed out.
        case credentials
        /// `/v1/artifacts`.
        case artifacts
        /// `/readyz` while credentials are served.
        case ready
        /// `/readyz` before credentials, or after they stopped being servable.
        case notReady = "not_ready"
        /// `/readyz` once the job has ended.
        case jobEnded = "job_ended"
        /// A presigned URL to download an input artifact.
        case downloadURL = "download_url"
        /// A presigned URL to upload an output artifact.
        case uploadURL = "upload_url"
        /// A multipart upload was created.
        case uploadCreated = "upload_created"
        /// Presigned `UploadPart` URLs were issued.
        case partURLs = "part_urls"
        /// A multipart upload was completed.
        case uploadCompleted = "upload_completed"
        /// A multipart upload was aborted.
        case uploadAborted = "upload_aborted"
        /// `/v1/configuration`: the job's non-secret configuration.
        case configuration
        /// The instance-metadata listener issued a session token.
        case metadataToken = "metadata_token"
        /// The instance-metadata listener answered with something not secret (the role's name, the region).
        case metadata
        /// A `HEAD` that a `GET` would have been served for: its status and headers, no body, so
        /// nothing was handed out.
        case head
    }

    /// Served, and why; or refused, and why.
    public enum Outcome: Sendable, Equatable {
        case served(Served)
        case refused(DenialCode)
    }

    /// Served or refused.
    public var outcome: Outcome
    /// The access key id of the credentials handed out, if any (it joins the log with CloudTrail).
    public var accessKeyId: String?
    /// When the credentials handed out expire, as served.
    public var expiration: Date?
    /// The label of the token the request carried, if it carried a valid one.
    public var token: String?
    /// The URL issued, if one was: its artifact, method and object; never its query or signature.
    public var issued: IssuedURL?

    /// The multipart upload a request acted on, if one: its object, S3's upload id and the parts.
    public var upload: Upload?

    /// What the audit log keeps of a multipart call.
    public struct Upload: Sendable, Equatable {
        public var bucket: String
        public var key: String
        public var artifact: String
        public var id: String
        public var firstPart: Int?
        public var lastPart: Int?

        public init(artifact: Artifact, id: String, firstPart: Int?, lastPart: Int?) {
            self.artifact = artifact.name
            self.bucket = artifact.bucket
            self.key = artifact.key
            self.id = id
            self.firstPart = firstPart
            self.lastPart = lastPart
        }
    }

    /// What the audit log keeps of a presigned URL.
    public struct IssuedURL: Sendable, Equatable {
        public var artifact: String
        public var method: String
        public var bucket: String
        public var key: String

        public init(artifact: String, method: String, bucket: String, key: String) {
            self.artifact = artifact
            self.method = method
            self.bucket = bucket
            self.key = key
        }
    }

    /// Creates a decision.
    public init(
        _ outcome: Outcome, accessKeyId: String? = nil, expiration: Date? = nil, token: String? = nil,
        issued: IssuedURL? = nil, upload: Upload? = nil
    ) {
        self.upload = upload
        self.outcome = outcome
        self.accessKeyId = accessKeyId
        self.expiration = expiration
        self.token = token
        self.issued = issued
    }

    /// What a `HEAD` got: a refusal stays as it is; anything served becomes `head`, without the
    /// key id, expiry or URL of what a `GET` would have handed out (libmicrohttpd sends no body).
    public func answeringHead() -> Decision {
        guard case .served = outcome else { return self }
        return Decision(.served(.head), token: token)
    }

    /// The refusal's code, if the request was refused.
    public var denial: DenialCode? {
        if case .refused(let code) = outcome { return code }
        return nil
    }

    /// The audit line's `reason`: the refusal's code, or why it was served.
    public var reason: String {
        switch outcome {
        case .served(let why): why.rawValue
        case .refused(let code): code.rawValue
        }
    }
}

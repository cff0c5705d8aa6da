import CryptoPrimitives
import HTTPCore
import HTTPTransport

#if canImport(Glibc)
    import Glibc
#endif

/// Moves one artifact object through presigned URLs: a download in 8 MiB ranges, up to four in
/// flight, each after the first bound to the first one's ETag (`If-Match`), so an object that
/// changes mid-download is refused rather than mixed; an upload as one `PUT` of a file. A `403`
/// (the URL or its credentials expired) asks the sidecar for a fresh URL, up to five times per
/// request; `5xx` and broken connections are tried again three times.
public struct ObjectTransfer: Sendable {
    /// The bytes per ranged GET.
    public static let rangeBytes: Int64 = 8 << 20
    /// Ranged GETs in flight.
    public static let parallelRanges = 4

    private let sidecar: SidecarClient
    private let transport: any HTTPTransport
    private let artifact: String

    public init(artifact: String, sidecar: SidecarClient, s3 transport: any HTTPTransport) {
        self.artifact = artifact
        self.sidecar = sidecar
        self.transport = transport
    }

    /// What a download fetched.
    public struct Downloaded: Sendable {
        public var bytes: Int64
        public var etag: String
        public var bucket: String
        public var key: String
    }

    /// The URL of the moment, shared by the requests in flight: one fresh one per expiry.
    private actor CurrentURL {
        private var url: PresignedURL
        private let fetch: @Sendable () async throws(ArtifactError) -> PresignedURL

        init(_ url: PresignedURL, fetch: @escaping @Sendable () async throws(ArtifactError) -> PresignedURL) {
            self.url = url
            self.fetch = fetch
        }

        /// The URL, fetched anew when it has under 30 seconds left.
        func get() async throws(ArtifactError) -> PresignedURL {
            if url.expiration - Int64(time(nil)) < 30 { url = try await fetch() }
            return url
        }

        /// A fresh URL, unless another request already replaced `failed`.
        func replace(_ failed: PresignedURL) async throws(ArtifactError) -> PresignedURL {
            if url.url == failed.url { url = try await fetch() }
            return url
        }
    }

    /// Downloads the object into `file` (the caller's descriptor) from offset 0.
    /// - Parameter check: called with the object's length and first bytes (up to 512) after the
    ///   first range arrives; it throws to stop before the rest is fetched (too large, not an archive).
    public func download(
        into file: Int32, check: (Int64, [UInt8]) throws(ArtifactError) -> Void
    ) async throws(ArtifactError) -> Downloaded {
        let sidecar = self.sidecar
        let artifact = self.artifact
        let first = try await sidecar.url(for: artifact, .download)
        let current = CurrentURL(first) { () async throws(ArtifactError) in
            try await sidecar.url(for: artifact, .download)
        }
        let head = try await send(current, file: file, range: 0..<Self.rangeBytes, etag: nil, first: true)
        let total = head.total
        var prefix = [UInt8](repeating: 0, count: Int(min(512, total)))
        _ = prefix.withUnsafeMutableBytes { pread(file, $0.baseAddress, $0.count, 0) }
        try check(total, prefix)
        let ranges = stride(from: Self.rangeBytes, to: total, by: Int(Self.rangeBytes)).map {
            $0..<min($0 + Self.rangeBytes, total)
        }
        try await Self.inParallel(ranges) { (range) async throws(ArtifactError) in
            _ = try await self.send(current, file: file, range: range, etag: head.etag, first: false)
        }
        return Downloaded(bytes: total, etag: head.etag ?? "", bucket: first.bucket, key: first.key)
    }

    private struct RangeAnswer: Sendable {
        var total: Int64
        var etag: String?
    }

    /// One ranged GET into `file`, with its retries.
    private func send(
        _ current: CurrentURL, file: Int32, range: Range<Int64>, etag: String?, first: Bool
    ) async throws(ArtifactError) -> RangeAnswer {
        try await exchange(
            "download", url: try await current.get(), renewals: 5,
            renew: { (failed) async throws(ArtifactError) in try await current.replace(failed) },
            request: { url in
                var headers = url.headers
                headers.append("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")
                if let etag { headers.append("If-Match", etag) }
                return HTTPRequest(
                    method: "GET", url: url.url, headers: headers, timeout: .seconds(300), connectTimeout: .seconds(10),
                    responseFile: FileSlice(descriptor: file, offset: range.lowerBound, length: Int64(range.count)))
            },
            answer: { (response, _) throws(ArtifactError) in
                switch response.status {
                case 206:
                    guard let total = Self.total(response.header("Content-Range"), start: range.lowerBound),
                        response.fileBytes == min(Int64(range.count), total - range.lowerBound)
                    else {
                        throw ArtifactError(.transferFailed, "S3 answered the range of \(artifact) with other bytes")
                    }
                    return RangeAnswer(total: total, etag: response.header("ETag"))
                case 200 where first:
                    return RangeAnswer(total: response.fileBytes, etag: response.header("ETag"))
                case 416 where first:
                    // An empty object has no byte 0 to range over.
                    return RangeAnswer(total: 0, etag: response.header("ETag"))
                default:
                    return nil
                }
            })
    }

    /// The waits between tries of one request: the code's one backoff, with full jitter.
    private static let backoff = RetryPolicy(base: .milliseconds(250), cap: .seconds(2))

    /// Sends `request(url)` until `answer` takes the response: a broken connection or a `5xx` is
    /// tried again three times (after up to 250 ms, 500 ms, 1 s); a `403` (an expired URL) or a
    /// `400 ExpiredToken` (expired credentials) with a URL from `renew`, up to `renewals` times;
    /// any other answer is the error it maps to.
    private func exchange<Value>(
        _ what: String, url first: PresignedURL, renewals: Int,
        renew: (PresignedURL) async throws(ArtifactError) -> PresignedURL,
        request: (PresignedURL) -> HTTPRequest,
        answer: (HTTPResponse, PresignedURL) throws(ArtifactError) -> Value?
    ) async throws(ArtifactError) -> Value {
        var url = first
        var renewed = 0
        var failed = 0
        while true {
            let response: HTTPResponse
            do {
                response = try await transport.send(request(url))
            } catch {
                failed += 1
                guard failed <= 3, error.isRetryable else {
                    throw ArtifactError(.transferFailed, "the \(what) of \(artifact) failed: \(error.message)")
                }
                try? await Task.sleep(for: Self.backoff.delay(beforeRetry: failed))
                continue
            }
            if let value = try answer(response, url) { return value }
            switch response.status {
            case 403 where renewed < renewals, 400 where renewed < renewals && Self.code(response) == "ExpiredToken":
                renewed += 1
                url = try await renew(url)
            case 500...599 where failed < 3:
                failed += 1
                try? await Task.sleep(for: Self.backoff.delay(beforeRetry: failed))
            default:
                throw Self.refusal(response, artifact: artifact, what: what)
            }
        }
    }

    /// `bytes START-END/TOTAL` with START as asked: TOTAL.
    private static func total(_ contentRange: String?, start: Int64) -> Int64? {
        guard let contentRange, contentRange.hasPrefix("bytes "), let slash = contentRange.lastIndex(of: "/"),
            let dash = contentRange.firstIndex(of: "-"),
            let from = Int64(contentRange[contentRange.index(contentRange.startIndex, offsetBy: 6)..<dash]),
            let total = Int64(contentRange[contentRange.index(after: slash)...]), from == start, total >= 0
        else { return nil }
        return total
    }

    /// What an upload stored.
    public struct Uploaded: Sendable {
        public var bucket: String
        public var key: String
        /// The key S3 says encrypted it, when it says one.
        public var kmsKeyId: String?
    }

    /// Uploads `length` bytes of `file` as the object, bound to their SHA-256; returns once S3 says
    /// the object is stored, encrypted with `aws:kms` under the job's key when the URL asks for it.
    public func upload(file: Int32, length: UInt64, sha256: [UInt8]) async throws(ArtifactError) -> Uploaded {
        let sidecar = self.sidecar
        let artifact = self.artifact
        let fresh = { () async throws(ArtifactError) in
            try await sidecar.url(for: artifact, .upload, sha256: sha256, length: length)
        }
        return try await exchange(
            "upload", url: try await fresh(), renewals: 1,
            renew: { (_) async throws(ArtifactError) in try await fresh() },
            request: { url in
                HTTPRequest(
                    method: "PUT", url: url.url, headers: url.headers, timeout: .seconds(3600),
                    connectTimeout: .seconds(10),
                    bodyFile: FileSlice(descriptor: file, offset: 0, length: Int64(length)))
            },
            answer: { (response, url) throws(ArtifactError) in
                response.status == 200 ? try Self.stored(response, url: url, artifact: artifact) : nil
            })
    }

    /// Uploads `length` bytes of `file` as a multipart upload the sidecar creates (SSE-KMS under
    /// the job's key) and completes (checking every part's length and checksum, and the total):
    /// part URLs asked for just in time, 32 at a time, each bound to its part's SHA-256, up to four
    /// parts in flight; a URL near its expiry, or answered `403`, is asked for again. Any failure
    /// aborts the upload. The sidecar checks that S3 stored it with `aws:kms` under the job's key.
    /// Returns the object and the number of parts.
    public func uploadMultipart(
        file: Int32, length: UInt64, partSize: UInt64
    ) async throws(ArtifactError) -> (Uploaded, parts: Int) {
        let upload = try await sidecar.createUpload(artifact, length: length, partSize: partSize)
        do throws(ArtifactError) {
            try await uploadParts(file: file, upload: upload, length: length)
            let completed = try await sidecar.complete(artifact, id: upload.upload_id)
            guard completed.bytes == length else {
                throw ArtifactError(.transferFailed, "S3 stored \(completed.bytes) of the \(length) bytes")
            }
            // The sidecar checked S3's answer against the job's key before it answered.
            return (
                Uploaded(bucket: completed.bucket, key: completed.key, kmsKeyId: completed.kms_key_id), completed.parts
            )
        } catch {
            try? await sidecar.abort(artifact, id: upload.upload_id)
            throw error
        }
    }

    private func uploadParts(file: Int32, upload: SidecarClient.Upload, length: UInt64) async throws(ArtifactError) {
        let batches = stride(from: 1, through: upload.parts, by: 32).map { $0...min($0 + 31, upload.parts) }
        for batch in batches {
            let sums = try batch.map { (number) throws(ArtifactError) in
                try Self.sha256(
                    file, offset: UInt64(number - 1) * upload.part_size,
                    length: Self.partLength(number, upload: upload, total: length))
            }
            let sidecar = self.sidecar
            let artifact = self.artifact
            let (urls, expiration) = try await sidecar.partURLs(
                artifact, id: upload.upload_id, first: batch.lowerBound, sha256: sums)
            guard urls.map(\.part) == Array(batch) else {
                throw ArtifactError(.sidecarRefused, "the sidecar answered URLs for other parts")
            }
            try await Self.inParallel(urls) { (part) async throws(ArtifactError) in
                try await self.uploadPart(
                    file: file, part: part, upload: upload, sha256: sums[part.part - batch.lowerBound],
                    expiration: expiration)
            }
        }
    }

    /// Runs `body` for each of `items`, `parallelRanges` at a time; the first failure cancels
    /// the rest and is thrown.
    private static func inParallel<Item: Sendable>(
        _ items: [Item], _ body: @escaping @Sendable (Item) async throws(ArtifactError) -> Void
    ) async throws(ArtifactError) {
        let failure: ArtifactError? = await withTaskGroup(of: ArtifactError?.self) { group in
            var pending = items[...]
            let task = { (item: Item) in
                { () async -> ArtifactError? in
                    do throws(ArtifactError) {
                        try await body(item)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            for _ in 0..<parallelRanges {
                if let item = pending.popFirst() { group.addTask(operation: task(item)) }
            }
            while let result = await group.next() {
                if let result {
                    group.cancelAll()
                    return result
                }
                if let item = pending.popFirst() { group.addTask(operation: task(item)) }
            }
            return nil
        }
        if let failure { throw failure }
    }

    /// One `UploadPart`, with a fresh URL for it when the batch's is near its end or refused.
    private func uploadPart(
        file: Int32, part: SidecarClient.PartURL, upload: SidecarClient.Upload, sha256: [UInt8], expiration: Int64
    ) async throws(ArtifactError) {
        let sidecar = self.sidecar
        let artifact = self.artifact
        let fresh = { () async throws(ArtifactError) -> PresignedURL in
            let (urls, expiration) = try await sidecar.partURLs(
                artifact, id: upload.upload_id, first: part.part, sha256: [sha256])
            guard let url = urls.first else { throw ArtifactError(.sidecarRefused, "the sidecar answered no URL") }
            return Self.presigned(url, expiration: expiration, upload: upload)
        }
        var first = Self.presigned(part, expiration: expiration, upload: upload)
        if expiration - Int64(time(nil)) < 30 { first = try await fresh() }
        let offset = Int64(part.part - 1) * Int64(upload.part_size)
        _ = try await exchange(
            "upload of part \(part.part)", url: first, renewals: 5,
            renew: { (_) async throws(ArtifactError) in try await fresh() },
            request: { url in
                HTTPRequest(
                    method: "PUT", url: url.url, headers: url.headers, timeout: .seconds(900),
                    connectTimeout: .seconds(10),
                    bodyFile: FileSlice(descriptor: file, offset: offset, length: Int64(part.length)))
            },
            answer: { (response, _) throws(ArtifactError) in response.status == 200 ? true : nil })
    }

    private static func presigned(
        _ part: SidecarClient.PartURL, expiration: Int64, upload: SidecarClient.Upload
    ) -> PresignedURL {
        var headers: HTTPHeaders = []
        for (name, value) in part.headers.sorted(by: { $0.key < $1.key }) { headers.append(name, value) }
        return PresignedURL(
            url: part.url, headers: headers, expiration: expiration, bucket: upload.bucket, key: upload.key)
    }

    static func partLength(_ number: Int, upload: SidecarClient.Upload, total: UInt64) -> UInt64 {
        number < upload.parts ? upload.part_size : total - upload.part_size * UInt64(upload.parts - 1)
    }

    /// The SHA-256 of `length` bytes of `file` at `offset`.
    private static func sha256(_ file: Int32, offset: UInt64, length: UInt64) throws(ArtifactError) -> [UInt8] {
        let hasher = SHA256.Hasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
        defer { buffer.deallocate() }
        var done: UInt64 = 0
        while done < length {
            let count = pread(
                file, buffer.baseAddress, Int(min(UInt64(buffer.count), length - done)), off_t(offset + done))
            guard count > 0 else { throw ArtifactError(.fileSystem, "cannot read the archive to upload") }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            done += UInt64(count)
        }
        return hasher.finish()
    }

    /// The object as S3 says it stored it, if that is encrypted as the URL asked.
    private static func stored(
        _ response: HTTPResponse, url: PresignedURL, artifact: String
    ) throws(ArtifactError) -> Uploaded {
        let answered = response.header("x-amz-server-side-encryption-aws-kms-key-id")
        if let asked = url.headers["x-amz-server-side-encryption"] {
            guard response.header("x-amz-server-side-encryption") == asked else {
                throw ArtifactError(
                    .uploadNotEncrypted, "S3 stored \(artifact) without saying it is encrypted with \(asked)")
            }
        }
        if let key = url.headers["x-amz-server-side-encryption-aws-kms-key-id"] {
            // S3 answers with the key's ARN whether the URL named its id or its ARN.
            guard let answered, answered == key || answered.hasSuffix(":key/" + key) else {
                throw ArtifactError(
                    .uploadNotEncrypted, "S3 stored \(artifact) under another KMS key than the job's (\(key))")
            }
        }
        return Uploaded(bucket: url.bucket, key: url.key, kmsKeyId: answered)
    }

    /// An S3 error answer as an error: its status and `<Code>` (never the URL).
    private static func refusal(_ response: HTTPResponse, artifact: String, what: String) -> ArtifactError {
        let code = Self.code(response)
        let message = "S3 refused the \(what) of \(artifact): \(response.status) \(code)"
        switch response.status {
        case 404: return ArtifactError(.objectNotFound, message)
        case 403: return ArtifactError(.accessDenied, message)
        case 412: return ArtifactError(.sourceChanged, "\(artifact) changed in S3 while it was downloaded (\(code))")
        default: return ArtifactError(.transferFailed, message)
        }
    }

    /// An S3 error answer's `<Code>`, letters and digits only (at most 64), or `?`.
    private static func code(_ response: HTTPResponse) -> String {
        let body = Array(response.body.prefix(4096))
        let open = Array("<Code>".utf8)
        guard let start = body.indices.first(where: { body[$0...].starts(with: open) }) else { return "?" }
        let value = body[(start + open.count)...].prefix { $0 != UInt8(ascii: "<") }.prefix(64)
        return String(
            decoding: value.filter {
                (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0)
            }, as: UTF8.self)
    }
}

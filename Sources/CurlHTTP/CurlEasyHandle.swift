internal import CCurl
internal import CCurlShims
import HTTPCore
import HTTPTransport

#if canImport(Glibc)
    import Glibc
#endif

/// Owns one libcurl easy handle. Reusing a handle reuses its connection.
///
/// Thread-safety: one thread at a time. `CurlTransport` hands each handle to exactly one
/// request at a time through its pool, which is why the type may cross threads.
final class CurlEasyHandle: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    /// libcurl writes its detailed error text here; it must outlive the handle.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// Creates a handle.
    /// - Throws: `HTTPTransportError` if libcurl cannot allocate one.
    init() throws(HTTPTransportError) {
        CurlGlobal.initialize()
        guard let handle = curl_easy_init() else {
            throw HTTPTransportError(.other, "curl_easy_init failed (out of memory?)")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Performs `request` synchronously (blocking the calling thread).
    func perform(_ request: HTTPRequest, settings: CurlTransport.Settings) throws(HTTPTransportError) -> HTTPResponse {
        // Reset every option but keep live connections, the DNS cache and TLS sessions.
        curl_easy_reset(handle)
        errorBuffer[0] = 0

        guard request.url.hasPrefix("https://") || request.url.hasPrefix("http://") else {
            throw HTTPTransportError(.invalidURL, "only http:// and https:// URLs are supported")
        }
        guard request.responseFile == nil || request.responseSink == nil else {
            throw HTTPTransportError(.other, "a request's body goes to a file or to a sink, not both")
        }
        let accumulator = ResponseAccumulator(
            limit: settings.maxResponseBytes, responseFile: request.responseFile, bodyFile: request.bodyFile,
            responseSink: request.responseSink)
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        // libcurl adds `Expect: 100-continue` to larger bodies: a needless round trip.
        headerList = curl_slist_append(headerList, "Expect:")

        try check(CCurlShims_setopt_ptr(handle, CURLOPT_URL, request.url), "CURLOPT_URL")
        try check(CCurlShims_setopt_ptr(handle, CURLOPT_PROTOCOLS_STR, "http,https"), "CURLOPT_PROTOCOLS_STR")
        try check(CCurlShims_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer), "CURLOPT_ERRORBUFFER")
        if !settings.useProxy {
            try check(CCurlShims_setopt_ptr(handle, CURLOPT_NOPROXY, "*"), "CURLOPT_NOPROXY")
        }
        try check(CCurlShims_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "CURLOPT_NOSIGNAL")
        try check(CCurlShims_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1), "CURLOPT_SSL_VERIFYPEER")
        try check(CCurlShims_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2), "CURLOPT_SSL_VERIFYHOST")
        try check(CCurlShims_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1), "CURLOPT_TCP_KEEPALIVE")
        try check(CCurlShims_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0), "CURLOPT_FOLLOWLOCATION")
        try check(
            CCurlShims_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds(request.timeout)), "CURLOPT_TIMEOUT_MS")
        try check(
            CCurlShims_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connectTimeout)),
            "CURLOPT_CONNECTTIMEOUT_MS")
        try check(
            CCurlShims_setopt_off(
                handle, CURLOPT_MAXFILESIZE_LARGE,
                curl_off_t(max(Int64(settings.maxResponseBytes), request.responseFile?.length ?? 0))),
            "CURLOPT_MAXFILESIZE_LARGE")
        if let userAgent = settings.userAgent {
            try check(CCurlShims_setopt_ptr(handle, CURLOPT_USERAGENT, userAgent), "CURLOPT_USERAGENT")
        }
        if let caBundle = settings.caBundle {
            // CAINFO adds this bundle; CAPATH keeps the system's hashed certificates trusted too.
            try check(CCurlShims_setopt_ptr(handle, CURLOPT_CAINFO, caBundle), "CURLOPT_CAINFO")
            try check(CCurlShims_setopt_ptr(handle, CURLOPT_CAPATH, settings.systemCAPath), "CURLOPT_CAPATH")
        }
        try check(CCurlShims_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList), "CURLOPT_HTTPHEADER")
        let context = accumulator.opaque
        if let bodyFile = request.bodyFile {
            try setUpload(request, from: bodyFile, context: context)
        } else {
            try setMethod(request)
        }

        try check(
            CCurlShims_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteBody), "CURLOPT_WRITEFUNCTION")
        try check(CCurlShims_setopt_ptr(handle, CURLOPT_WRITEDATA, context), "CURLOPT_WRITEDATA")
        try check(
            CCurlShims_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, curlWriteHeader), "CURLOPT_HEADERFUNCTION")
        try check(CCurlShims_setopt_ptr(handle, CURLOPT_HEADERDATA, context), "CURLOPT_HEADERDATA")
        if request.responseSink != nil {
            try check(
                CCurlShims_setopt_progress_callback(handle, CURLOPT_XFERINFOFUNCTION, curlProgress),
                "CURLOPT_XFERINFOFUNCTION")
            try check(CCurlShims_setopt_ptr(handle, CURLOPT_XFERINFODATA, context), "CURLOPT_XFERINFODATA")
            try check(CCurlShims_setopt_long(handle, CURLOPT_NOPROGRESS, 0), "CURLOPT_NOPROGRESS")
        }

        let result = withExtendedLifetime(accumulator) { curl_easy_perform(handle) }
        if result != CURLE_OK {
            if accumulator.sinkStopped {
                throw HTTPTransportError(.stopped, "the stream's reader stopped it")
            }
            if accumulator.fileError != 0 {
                throw HTTPTransportError(
                    .other, "cannot use the transfer's file: \(String(cString: strerror(accumulator.fileError)))")
            }
            throw HTTPTransportError(
                curlCode: result, detail: String(cString: errorBuffer), overLimit: accumulator.overLimit,
                limit: accumulator.bodyGoesToFile ? Int(request.responseFile?.length ?? 0) : settings.maxResponseBytes)
        }
        var status = 0
        _ = CCurlShims_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var response = HTTPResponse(status: status, headers: accumulator.headers, body: accumulator.body)
        response.fileBytes = accumulator.fileBytes
        return response
    }

    /// A `PUT` (or another method) whose body libcurl reads from `slice` as it sends.
    private func setUpload(
        _ request: HTTPRequest, from slice: FileSlice, context: UnsafeMutableRawPointer
    ) throws(HTTPTransportError) {
        guard request.body.isEmpty, slice.length >= 0, slice.offset >= 0 else {
            throw HTTPTransportError(.other, "a request has either a body or a body file, of a whole size")
        }
        try check(CCurlShims_setopt_long(handle, CURLOPT_UPLOAD, 1), "CURLOPT_UPLOAD")
        try check(
            CCurlShims_setopt_off(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(slice.length)),
            "CURLOPT_INFILESIZE_LARGE")
        try check(CCurlShims_setopt_data_callback(handle, CURLOPT_READFUNCTION, curlReadBody), "CURLOPT_READFUNCTION")
        try check(CCurlShims_setopt_ptr(handle, CURLOPT_READDATA, context), "CURLOPT_READDATA")
        if request.method != "PUT" {
            try check(CCurlShims_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, request.method), "CURLOPT_CUSTOMREQUEST")
        }
    }

    private func setMethod(_ request: HTTPRequest) throws(HTTPTransportError) {
        switch (request.method, request.body.isEmpty) {
        case ("GET", true):
            try check(CCurlShims_setopt_long(handle, CURLOPT_HTTPGET, 1), "CURLOPT_HTTPGET")
        case ("HEAD", true):
            try check(CCurlShims_setopt_long(handle, CURLOPT_NOBODY, 1), "CURLOPT_NOBODY")
        default:
            // A body (possibly empty) sent with the given method; COPYPOSTFIELDS copies it.
            try check(
                CCurlShims_setopt_long(handle, CURLOPT_POSTFIELDSIZE, request.body.count), "CURLOPT_POSTFIELDSIZE")
            try request.body.withUnsafeBufferPointer { (buffer) throws(HTTPTransportError) in
                let pointer = UnsafeRawPointer(buffer.baseAddress) ?? UnsafeRawPointer(errorBuffer)
                try check(CCurlShims_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, pointer), "CURLOPT_COPYPOSTFIELDS")
            }
            if request.method != "POST" {
                try check(CCurlShims_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, request.method), "CURLOPT_CUSTOMREQUEST")
            }
        }
    }

    private func check(_ code: CURLcode, _ option: String) throws(HTTPTransportError) {
        guard code == CURLE_OK else { throw HTTPTransportError(curlSetup: code, option: option) }
    }

    private func milliseconds(_ duration: Duration) -> Int {
        max(1, Int(duration.wholeMilliseconds))
    }
}

private func curlWriteBody(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let data, let context else { return 0 }
    let accumulator = ResponseAccumulator.from(opaque: context)
    let length = size * count
    if accumulator.bodyGoesToSink, let sink = accumulator.responseSink {
        guard sink.receive(UnsafeRawBufferPointer(start: data, count: length)) else {
            accumulator.sinkStopped = true
            return 0
        }
        return length
    }
    if accumulator.bodyGoesToFile, let file = accumulator.responseFile {
        guard accumulator.fileBytes + Int64(length) <= file.length else {
            accumulator.overLimit = true
            return 0
        }
        var done = 0
        while done < length {
            let written = pwrite(
                file.descriptor, data + done, length - done, off_t(file.offset + accumulator.fileBytes))
            if written < 0, errno == EINTR { continue }
            guard written > 0 else {
                accumulator.fileError = errno
                return 0
            }
            done += written
            accumulator.fileBytes += Int64(written)
        }
        return length
    }
    guard accumulator.body.count + length <= accumulator.limit else {
        accumulator.overLimit = true
        return 0  // makes libcurl stop with CURLE_WRITE_ERROR
    }
    data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        accumulator.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
    }
    return length
}

/// Stops a streamed transfer whose reader asked to stop (libcurl asks about once a second).
private func curlProgress(
    _ context: UnsafeMutableRawPointer?, _ downloadTotal: curl_off_t, _ downloaded: curl_off_t,
    _ uploadTotal: curl_off_t, _ uploaded: curl_off_t
) -> Int32 {
    guard let context else { return 0 }
    let accumulator = ResponseAccumulator.from(opaque: context)
    guard accumulator.responseSink?.stopRequested() == true else { return 0 }
    accumulator.sinkStopped = true
    return 1
}

private func curlReadBody(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let data, let context else { return Int(CURL_READFUNC_ABORT) }
    let accumulator = ResponseAccumulator.from(opaque: context)
    guard let file = accumulator.bodyFile else { return Int(CURL_READFUNC_ABORT) }
    let wanted = min(size * count, Int(file.length - accumulator.bodyFileSent))
    guard wanted > 0 else { return 0 }
    while true {
        let read = pread(file.descriptor, data, wanted, off_t(file.offset + accumulator.bodyFileSent))
        if read < 0, errno == EINTR { continue }
        guard read > 0 else {
            // A file that shrank under the transfer, or cannot be read: abort, never send short.
            accumulator.fileError = read < 0 ? errno : EIO
            return Int(CURL_READFUNC_ABORT)
        }
        accumulator.bodyFileSent += Int64(read)
        return read
    }
}

private func curlWriteHeader(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let data, let context else { return 0 }
    let accumulator = ResponseAccumulator.from(opaque: context)
    let length = size * count
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
    }
    accumulator.appendHeaderLine(line)
    return length
}

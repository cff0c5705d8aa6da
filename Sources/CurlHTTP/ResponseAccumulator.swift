import HTTPCore
import HTTPTransport

/// Collects a response's headers and body while libcurl delivers them, and hands libcurl a
/// request body read from a file.
final class ResponseAccumulator {
    let limit: Int
    var headers: HTTPHeaders = []
    var body: [UInt8] = []
    var overLimit = false
    /// The status of the response being received, from its status line.
    var status = 0
    /// Where a 2xx body goes, and how much of it has arrived.
    let responseFile: FileSlice?
    var fileBytes: Int64 = 0
    /// Where a 2xx body goes as it arrives; whether it asked to stop.
    let responseSink: ResponseSink?
    var sinkStopped = false
    /// Where the request body comes from, and how much of it has been sent.
    let bodyFile: FileSlice?
    var bodyFileSent: Int64 = 0
    /// Why writing or reading a file failed (errno), for the error message.
    var fileError: Int32 = 0

    init(limit: Int, responseFile: FileSlice? = nil, bodyFile: FileSlice? = nil, responseSink: ResponseSink? = nil) {
        self.limit = limit
        self.responseFile = responseFile
        self.responseSink = responseSink
        self.bodyFile = bodyFile
    }

    /// Whether the body arriving now belongs in `responseFile`.
    var bodyGoesToFile: Bool { responseFile != nil && (200..<300).contains(status) }

    /// Whether the body arriving now goes to `responseSink`.
    var bodyGoesToSink: Bool { responseSink != nil && (200..<300).contains(status) }

    /// The pointer libcurl hands back to the callbacks; unretained: `perform` keeps `self` alive
    /// for the whole transfer.
    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// The accumulator behind a callback's context pointer.
    static func from(opaque: UnsafeMutableRawPointer) -> ResponseAccumulator {
        Unmanaged<ResponseAccumulator>.fromOpaque(opaque).takeUnretainedValue()
    }

    func appendHeaderLine(_ line: String) {
        let trimmed = line.trimmingTrailingNewline()
        if trimmed.hasPrefix("HTTP/") {
            headers = []  // a new response (after 100-continue or a proxy CONNECT)
            let fields = trimmed.split(separator: " ", maxSplits: 2)
            status = fields.count >= 2 ? Int(fields[1]) ?? 0 : 0
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = String(trimmed[..<colon])
        let value = trimmed[trimmed.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
        headers.append(name, String(value))
    }
}

extension String {
    fileprivate func trimmingTrailingNewline() -> String {
        var result = Substring(self)
        while let last = result.last, last == "\r" || last == "\n" || last == "\r\n" { result = result.dropLast() }
        return String(result)
    }
}

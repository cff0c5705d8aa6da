import HTTPCore

/// Collects a response's headers and body while libcurl delivers them.
final class ResponseAccumulator {
    let limit: Int
    var headers: HTTPHeaders = []
    var body: [UInt8] = []
    var overLimit = false

    init(limit: Int) { self.limit = limit }

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

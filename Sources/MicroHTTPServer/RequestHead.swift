/// The check every request head passes before libmicrohttpd parses it: the server reads the head
/// with `MSG_PEEK`, and only a head this accepts is handed over. It is at least as strict as
/// libmicrohttpd 0.9.75 everywhere that library would answer on its own (with an HTML page), so
/// that library never does: whatever it would refuse is refused here, and the handler answers it.
///
/// Accepted, and nothing else (RFC 9112, narrowed to what an HTTP client sends):
/// - empty lines (`CRLF`) before the request line;
/// - a request line `method SP target SP version CRLF`: the method a token, the target visible
///   ASCII, the version `HTTP/1.0` or `HTTP/1.1`;
/// - header lines `name ":" value CRLF`: the name a token, the value visible ASCII, spaces, tabs or
///   bytes from 0x80; no folded lines; a `Content-Length` of 1 to 15 digits and nothing else;
/// - an empty line within `Limits.bytes` bytes, with at most `Limits.fields` header fields and
///   query arguments together.
///
/// Every line ends with `CRLF`: a bare `LF` or `CR` is refused (libmicrohttpd would take the first
/// and keep the second inside a value).
public enum RequestHead {
    /// How large a head may be.
    public struct Limits: Sendable, Equatable {
        /// Bytes from the first byte to the end of the empty line.
        public var bytes: Int
        /// Header fields plus query arguments (each takes a record in libmicrohttpd's buffer).
        public var fields: Int

        public init(bytes: Int, fields: Int) {
            self.bytes = bytes
            self.fields = fields
        }

        /// The connection buffer libmicrohttpd needs to parse any head within these limits without
        /// refusing it on its own: it reads into half its buffer (so twice the head), copies a
        /// `Cookie` field (as long as the head, at worst), and keeps a record of 56 bytes per field.
        public var connectionMemory: Int { 3 * bytes + 64 * fields }
    }

    /// The request line, once it is complete and well formed.
    public struct Line: Sendable, Equatable {
        public var method: String
        /// The target as sent.
        public var target: String

        public init(method: String, target: String) {
            self.method = method
            self.target = target
        }
    }

    /// What the bytes received so far amount to.
    public enum Scan: Sendable, Equatable {
        /// Not a whole head yet, nothing wrong so far; the request line, if it is complete.
        case incomplete(Line?)
        /// A whole head of `length` bytes (any bytes after it are the next request's).
        case complete(length: Int)
        /// A head that is refused, why, and its request line if that much was well formed.
        case refused(RefusedRequest.Reason, Line?)
    }

    /// Scans `bytes`, the first bytes received on a connection: at most `limits.bytes + 1` of
    /// them are read (one more than the limit shows that a head without an end is too large).
    public static func scan(_ bytes: UnsafeRawBufferPointer, limits: Limits) -> Scan {
        var scanner = Scanner(bytes: bytes, window: min(bytes.count, limits.bytes))
        let tooLarge = bytes.count > limits.bytes
        scanner.skipEmptyLines()
        guard let lineEnd = scanner.nextLine() else {
            if scanner.partialLineIsBad(requestLine: true) { return .refused(.malformed, nil) }
            return tooLarge ? .refused(.headTooLarge, nil) : .incomplete(nil)
        }
        guard case .line(let lineStart, let contentEnd, let next) = lineEnd else { return .refused(.malformed, nil) }
        let parsed = scanner.requestLine(from: lineStart, to: contentEnd)
        guard case .success(let line, let arguments) = parsed else {
            if case .failure(let reason, let line) = parsed { return .refused(reason, line) }
            return .refused(.malformed, nil)
        }
        scanner.index = next
        var fields = arguments
        while true {
            guard let end = scanner.nextLine() else {
                if scanner.partialLineIsBad(requestLine: false) { return .refused(.malformed, line) }
                return tooLarge ? .refused(.headTooLarge, line) : .incomplete(line)
            }
            guard case .line(let start, let contentEnd, let next) = end else { return .refused(.malformed, line) }
            if start == contentEnd { return .complete(length: next) }
            fields += 1
            if fields > limits.fields { return .refused(.headTooLarge, line) }
            guard scanner.headerLineIsGood(from: start, to: contentEnd) else { return .refused(.malformed, line) }
            scanner.index = next
        }
    }
}

/// A cursor over the head's bytes, within the window the limit allows.
private struct Scanner {
    enum LineEnd {
        /// A line from `start` to `contentEnd` (its `CRLF` excluded); the next starts at `next`.
        case line(start: Int, contentEnd: Int, next: Int)
        /// A bare `LF` or `CR`.
        case malformed
    }

    enum RequestLine {
        case success(RequestHead.Line, arguments: Int)
        case failure(RefusedRequest.Reason, RequestHead.Line?)
    }

    let bytes: UnsafeRawBufferPointer
    let window: Int
    var index = 0

    init(bytes: UnsafeRawBufferPointer, window: Int) {
        self.bytes = bytes
        self.window = window
    }

    mutating func skipEmptyLines() {
        while index + 1 < window, bytes[index] == cr, bytes[index + 1] == lf { index += 2 }
    }

    /// The line starting at `index`, nil if its end is not within the window yet.
    func nextLine() -> LineEnd? {
        var position = index
        while position < window {
            switch bytes[position] {
            case lf:
                return .malformed  // a bare LF: a CR would have been seen first
            case cr:
                guard position + 1 < window else { return nil }
                guard bytes[position + 1] == lf else { return .malformed }
                return .line(start: index, contentEnd: position, next: position + 2)
            default:
                position += 1
            }
        }
        return nil
    }

    /// Whether the unfinished line at `index` already holds a byte it may not: a control byte, or
    /// (in a request line) a byte outside visible ASCII, a third space, or a method byte not in a
    /// token. Lets garbage be refused at once instead of at the deadline.
    func partialLineIsBad(requestLine: Bool) -> Bool {
        var spaces = 0
        var position = index
        while position < window {
            let byte = bytes[position]
            if byte == cr, position == window - 1 { return false }
            if requestLine {
                if byte == space {
                    spaces += 1
                    if spaces > 2 || position == index { return true }
                } else if spaces == 0 ? !isToken(byte) : !isVisible(byte) {
                    return true
                }
            } else if !isFieldByte(byte) {
                return true
            }
            position += 1
        }
        return false
    }

    /// Parses `method SP target SP version`.
    func requestLine(from start: Int, to end: Int) -> RequestLine {
        // More than two spaces: where the target ends cannot be told, so no part of it is named.
        guard (start..<end).count(where: { bytes[$0] == space }) <= 2,
            let firstSpace = find(space, from: start, to: end), firstSpace > start,
            (start..<firstSpace).allSatisfy({ isToken(bytes[$0]) })
        else { return .failure(.malformed, nil) }
        let targetStart = firstSpace + 1
        let secondSpace = find(space, from: targetStart, to: end)
        let targetEnd = secondSpace ?? end
        guard targetEnd > targetStart, (targetStart..<targetEnd).allSatisfy({ isVisible(bytes[$0]) }) else {
            return .failure(.malformed, nil)
        }
        let line = RequestHead.Line(method: text(start, firstSpace), target: text(targetStart, targetEnd))
        guard let secondSpace else { return .failure(.malformed, line) }  // HTTP/0.9: no version
        let version = UnsafeRawBufferPointer(rebasing: bytes[(secondSpace + 1)..<end])
        guard version.count == 8, version.starts(with: "HTTP/".utf8), isDigit(version[5]), version[6] == dot,
            isDigit(version[7])
        else { return .failure(.malformed, line) }
        guard version[5] == UInt8(ascii: "1"), version[7] == UInt8(ascii: "0") || version[7] == UInt8(ascii: "1")
        else { return .failure(.versionNotSupported, line) }
        // libmicrohttpd keeps a record for each query argument, as for each header field.
        var arguments = 0
        if let query = find(UInt8(ascii: "?"), from: targetStart, to: targetEnd) {
            arguments = 1 + (query..<targetEnd).count { bytes[$0] == UInt8(ascii: "&") }
        }
        return .success(line, arguments: arguments)
    }

    /// Whether `name: value` is well formed; a `Content-Length` must be 1 to 15 digits.
    func headerLineIsGood(from start: Int, to end: Int) -> Bool {
        guard let colon = find(UInt8(ascii: ":"), from: start, to: end), colon > start,
            (start..<colon).allSatisfy({ isToken(bytes[$0]) }),
            (colon + 1..<end).allSatisfy({ isFieldByte(bytes[$0]) })
        else { return false }
        guard isContentLength(from: start, to: colon) else { return true }
        var valueStart = colon + 1
        while valueStart < end, bytes[valueStart] == space || bytes[valueStart] == tab { valueStart += 1 }
        let digits = end - valueStart
        return (1...15).contains(digits) && (valueStart..<end).allSatisfy { isDigit(bytes[$0]) }
    }

    private func isContentLength(from start: Int, to end: Int) -> Bool {
        let name = "content-length".utf8
        guard end - start == name.count else { return false }
        return zip(start..<end, name).allSatisfy { bytes[$0.0] | 0x20 == $0.1 }
    }

    private func find(_ byte: UInt8, from start: Int, to end: Int) -> Int? {
        (start..<end).first { bytes[$0] == byte }
    }

    private func text(_ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }
}

private let cr = UInt8(ascii: "\r")
private let lf = UInt8(ascii: "\n")
private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")
private let dot = UInt8(ascii: ".")

private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

/// Visible ASCII: what a request target is made of.
private func isVisible(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }

/// A field value's bytes: visible ASCII, space, tab, and bytes from 0x80 (obs-text).
private func isFieldByte(_ byte: UInt8) -> Bool { isVisible(byte) || byte == space || byte == tab || byte >= 0x80 }

/// RFC 9110's `tchar`: what methods and field names are made of.
private func isToken(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), 0x30...0x39: true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
        UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
        UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        true
    default: false
    }
}

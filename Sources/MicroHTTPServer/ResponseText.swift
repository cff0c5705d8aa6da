internal import CMicroHTTPD
import HTTPCore

/// A response as the bytes of an HTTP/1.1 message, for the answers the accept loop sends itself
/// (libmicrohttpd sends every other one): status line, the response's fields, `Content-Length`
/// and `Connection: close`, then the body unless the request was `HEAD`.
enum ResponseText {
    static func bytes(of response: ServerResponse, withBody: Bool) -> [UInt8] {
        let reason = MHD_get_reason_phrase_for(UInt32(response.status)).map { String(cString: $0) } ?? ""
        var head = "HTTP/1.1 \(response.status) \(reason)\r\n"
        for (name, value) in response.headers where !HTTPHeaders.sameName(name, "Content-Length") {
            head += "\(name): \(value)\r\n"
        }
        head += "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + (withBody ? response.body : [])
    }
}

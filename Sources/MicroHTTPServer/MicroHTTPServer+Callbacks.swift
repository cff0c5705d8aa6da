internal import CJobCredsShims
internal import CMicroHTTPD
import Glibc

/// Markers kept in MHD's per-request `*req_cls` slot; never dereferenced.
private var headersSeen: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: 0x1) }

/// MHD's access handler. MHD calls it at least twice per request: once when the headers are in
/// (answering then would make MHD 0.9.75 close the connection, losing keep-alive), then with any
/// body chunks, then once more with none: that last call answers.
func accessHandler(
    context: UnsafeMutableRawPointer?, connection: OpaquePointer?, url: UnsafePointer<CChar>?,
    method: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?, uploadData: UnsafePointer<CChar>?,
    uploadDataSize: UnsafeMutablePointer<Int>?, requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let context, let connection, let requestContext, let uploadDataSize else { return MHD_Result.NO }
    let server = Unmanaged<HandlerContext>.fromOpaque(context).takeUnretainedValue()
    func answer() -> MHD_Result {
        let headers = headers(of: connection)
        let (address, port) = clientAddress(of: connection)
        let request = ServerRequest(
            method: method.map { String(cString: $0) } ?? "", path: url.map { String(cString: $0) } ?? "",
            version: version.map { String(cString: $0) } ?? "", headers: headers, clientAddress: address,
            clientPort: port, bodyLength: declaredBodyLength(headers))
        return queue(server.handler.respond(to: request), on: connection)
    }
    if requestContext.pointee == nil {
        requestContext.pointee = headersSeen
        // A body larger than allowed is never read: the handler answers now and MHD closes.
        // (Two lookups here; the full header list is built once, for the answer.)
        if MHD_lookup_connection_value(connection, .HEADER_KIND, "Transfer-Encoding") != nil { return answer() }
        if let length = MHD_lookup_connection_value(connection, .HEADER_KIND, "Content-Length") {
            let declared = Int(String(cString: length)) ?? -1
            if declared < 0 || declared > server.maxBodyBytes { return answer() }
        }
        return MHD_Result.YES
    }
    if uploadDataSize.pointee > 0 {
        uploadDataSize.pointee = 0  // an allowed body is read and dropped
        return MHD_Result.YES
    }
    return answer()
}

/// The body length the request declares: its `Content-Length`, -1 for a chunked or unparsable
/// one, 0 for none.
private func declaredBodyLength(_ headers: [(name: String, value: String)]) -> Int {
    if headers.contains(where: { $0.name.caseInsensitiveEquals("Transfer-Encoding") }) { return -1 }
    let lengths = headers.filter { $0.name.caseInsensitiveEquals("Content-Length") }.map(\.value)
    guard let first = lengths.first else { return 0 }
    guard lengths.allSatisfy({ $0 == first }), let length = Int(first), length >= 0 else { return -1 }
    return length
}

/// Sends `response`.
private func queue(_ response: ServerResponse, on connection: OpaquePointer) -> MHD_Result {
    let created = response.body.withUnsafeBytes { bytes in
        MHD_create_response_from_buffer(
            bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress), .RESPMEM_MUST_COPY)
    }
    guard let created else { return MHD_Result.NO }
    defer { MHD_destroy_response(created) }
    for (name, value) in response.headers {
        guard MHD_add_response_header(created, name, value) == MHD_Result.YES else { return MHD_Result.NO }
    }
    return MHD_queue_response(connection, UInt32(response.status), created)
}

/// Every request header, in order.
private func headers(of connection: OpaquePointer) -> [(name: String, value: String)] {
    final class Collector {
        var headers: [(name: String, value: String)] = []
    }
    let collector = Collector()
    withExtendedLifetime(collector) {
        _ = MHD_get_connection_values(
            connection, .HEADER_KIND,
            { context, _, key, value in
                guard let context, let key else { return MHD_Result.YES }
                let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
                collector.headers.append((String(cString: key), value.map { String(cString: $0) } ?? ""))
                return MHD_Result.YES
            }, Unmanaged.passUnretained(collector).toOpaque())
    }
    return collector.headers
}

/// The client's address and port.
private func clientAddress(of connection: OpaquePointer) -> (String, Int) {
    guard let address = cjc_mhd_client_address(connection) else { return ("unknown", 0) }
    return SocketAddress.describe(address)
}

internal import CJobCredsShims
internal import CMicroHTTPD
import Glibc

/// Markers kept in MHD's per-request `*req_cls` slot; never dereferenced.
private var headersSeen: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: 0x1) }
private var bodySeen: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: 0x2) }

/// MHD's access handler. MHD calls it at least twice per request: once when the headers are in
/// (answering then would make MHD 0.9.75 close the connection, losing keep-alive), then with any
/// body chunks, then once more with none: that last call answers.
func accessHandler(
    context: UnsafeMutableRawPointer?, connection: OpaquePointer?, url: UnsafePointer<CChar>?,
    method: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?, uploadData: UnsafePointer<CChar>?,
    uploadDataSize: UnsafeMutablePointer<Int>?, requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let context, let connection, let requestContext, let uploadDataSize else { return MHD_Result.NO }
    if requestContext.pointee == nil {
        requestContext.pointee = headersSeen
        return MHD_Result.YES
    }
    if uploadDataSize.pointee > 0 {
        // A body is read and dropped; its size is all a handler learns.
        let previous = requestContext.pointee == bodySeen ? 1 : 0
        requestContext.pointee = bodySeen
        uploadDataSize.pointee = 0
        _ = previous
        return MHD_Result.YES
    }
    let handler = Unmanaged<HandlerContext>.fromOpaque(context).takeUnretainedValue().handler
    let request = ServerRequest(
        method: method.map { String(cString: $0) } ?? "",
        path: url.map { String(cString: $0) } ?? "",
        version: version.map { String(cString: $0) } ?? "",
        headers: headers(of: connection),
        clientAddress: "", clientPort: 0,
        bodyLength: requestContext.pointee == bodySeen ? 1 : 0)
    var withClient = request
    (withClient.clientAddress, withClient.clientPort) = clientAddress(of: connection)
    let response = handler.respond(to: withClient)
    return queue(response, on: connection)
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

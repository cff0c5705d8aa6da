internal import CMicroHTTPD
internal import CMicroHTTPDShims
import Glibc
import HTTPCore

/// Markers kept in MHD's per-request `*req_cls` slot; never dereferenced. `lineSeen`: the request
/// line is parsed, the handler not yet called; `headersSeen`: the handler has the request.
private var lineSeen: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: 0x2) }
private var headersSeen: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: 0x1) }

/// MHD's request-line callback (MHD_OPTION_URI_LOG_CALLBACK): the target is kept on the
/// connection's record, in case libmicrohttpd answers the request on its own.
func requestLineParsed(
    context: UnsafeMutableRawPointer?, target: UnsafePointer<CChar>?, connection: OpaquePointer?
) -> UnsafeMutableRawPointer? {
    if let connection, let target { connectionRecord(of: connection)?.sawRequestLine(target: String(cString: target)) }
    return lineSeen
}

/// MHD's request-completed callback: a request still marked `lineSeen` never reached the
/// handler; if libmicrohttpd answered it (a status was queued), the handler is told.
func requestCompleted(
    context: UnsafeMutableRawPointer?, connection: OpaquePointer?,
    requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, code: MHD_RequestTerminationCode
) {
    guard let context, let connection, let requestContext, requestContext.pointee == lineSeen,
        let record = connectionRecord(of: connection)
    else { return }
    requestContext.pointee = nil
    let status = Int(CMicroHTTPDShims_http_status(connection))
    guard status != 0 else { return }  // the client went away mid-head: nothing was refused
    HandlerContext.from(opaque: context).handler.requestNotServed(
        UnservedRequest(
            status: status, target: record.requestTarget, owner: record.owner, clientAddress: record.clientAddress,
            clientPort: record.clientPort))
}

/// MHD's access handler. MHD calls it at least twice per request: once when the headers are in
/// (answering then would leave an allowed body unread), then with any body chunks, then once more
/// with none: that last call answers.
func accessHandler(
    context: UnsafeMutableRawPointer?, connection: OpaquePointer?, url: UnsafePointer<CChar>?,
    method: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?, uploadData: UnsafePointer<CChar>?,
    uploadDataSize: UnsafeMutablePointer<Int>?, requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let context, let connection, let requestContext, let uploadDataSize else { return MHD_Result.NO }
    let server = HandlerContext.from(opaque: context)
    let record = connectionRecord(of: connection)
    func answer() -> MHD_Result {
        let headers = HTTPHeaders(values(of: connection, kind: .HEADER_KIND))
        let (address, port) = record.map { ($0.clientAddress, $0.clientPort) } ?? clientAddress(of: connection)
        let request = ServerRequest(
            method: method.map { String(cString: $0) } ?? "", path: url.map { String(cString: $0) } ?? "",
            version: version.map { String(cString: $0) } ?? "", headers: headers,
            query: values(of: connection, kind: .GET_ARGUMENT_KIND).map { QueryItem(name: $0.name, value: $0.value) },
            clientAddress: address, clientPort: port, clientOwner: record?.owner,
            bodyLength: declaredBodyLength(headers))
        return queue(server.handler.respond(to: request), on: connection)
    }
    if requestContext.pointee == nil || requestContext.pointee == lineSeen {
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

/// `MHD_CONNECTION_NOTIFY_CLOSED` (the C enum's constants do not reach Swift by name).
private let connectionClosed = MHD_ConnectionNotificationCode(rawValue: 1)

/// MHD's connection notification: a new connection is one the accept loop handed over, its
/// ledger record claimed and kept in MHD's socket context (retained until the close); a closed
/// one frees its slot.
func connectionNotification(
    context: UnsafeMutableRawPointer?, connection: OpaquePointer?,
    socketContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, code: MHD_ConnectionNotificationCode
) {
    guard let context, let connection, let socketContext else { return }
    let server = HandlerContext.from(opaque: context)
    if code == connectionClosed {
        guard let opaque = socketContext.pointee else { return }
        socketContext.pointee = nil
        server.ledger.closed(ConnectionLedger.Record.release(opaque: opaque))
        return
    }
    let descriptor = CMicroHTTPDShims_connection_fd(connection)
    if let record = server.ledger.claim(descriptor: descriptor) { socketContext.pointee = record.retainedOpaque }
}

/// The ledger's record of `connection`, from MHD's socket context.
private func connectionRecord(of connection: OpaquePointer) -> ConnectionLedger.Record? {
    CMicroHTTPDShims_socket_context(connection).map(ConnectionLedger.Record.from(opaque:))
}

/// The body length the request declares: its `Content-Length`, -1 for a chunked or unparsable
/// one, 0 for none.
private func declaredBodyLength(_ headers: HTTPHeaders) -> Int {
    if headers.contains("Transfer-Encoding") { return -1 }
    let lengths = headers.values("Content-Length")
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
    // One request per connection: the next one must come through the accept loop's check.
    guard MHD_add_response_header(created, "Connection", "close") == MHD_Result.YES else { return MHD_Result.NO }
    for (name, value) in response.headers {
        // withCString: a small string is copied to the stack, not to a new array.
        let added = name.withCString { name in value.withCString { MHD_add_response_header(created, name, $0) } }
        guard added == MHD_Result.YES else { return MHD_Result.NO }
    }
    return MHD_queue_response(connection, UInt32(response.status), created)
}

/// Every request header, or every query argument, in order.
private func values(of connection: OpaquePointer, kind: MHD_ValueKind) -> [HTTPHeaders.Field] {
    let collector = ValueCollector()
    withExtendedLifetime(collector) {
        _ = MHD_get_connection_values(
            connection, kind,
            { context, _, key, value in
                guard let context, let key else { return MHD_Result.YES }
                ValueCollector.from(opaque: context).values.append((text(key), value.map(text) ?? ""))
                return MHD_Result.YES
            }, collector.opaque)
    }
    return collector.values
}

/// A C string from MHD as a `String`: ASCII (what headers almost always are) copied without
/// the decoder's validation; anything else decoded, invalid UTF-8 repaired.
private func text(_ pointer: UnsafePointer<CChar>) -> String {
    let count = strlen(pointer)
    return pointer.withMemoryRebound(to: UInt8.self, capacity: count) { start in
        let bytes = UnsafeBufferPointer(start: start, count: count)
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return String(decoding: bytes, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: count) { out in
            _ = out.initialize(from: bytes)
            return count
        }
    }
}

/// The client's address and port.
private func clientAddress(of connection: OpaquePointer) -> (String, Int) {
    guard let address = CMicroHTTPDShims_client_address(connection) else { return ("unknown", 0) }
    return SocketAddress.describe(address)
}

/// Gathers a request's headers or arguments from `MHD_get_connection_values`' callback.
private final class ValueCollector {
    var values: [HTTPHeaders.Field]

    init() {
        values = []
        values.reserveCapacity(12)  // a request's headers, without growing
    }

    /// The pointer MHD hands back to the callback; unretained: the caller keeps `self` alive.
    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// The collector behind the callback's context pointer.
    static func from(opaque: UnsafeMutableRawPointer) -> ValueCollector {
        Unmanaged<ValueCollector>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// What the C callbacks reach through their context pointer; lives as long as the server.
final class HandlerContext: Sendable {
    let handler: any ServerHandler
    let maxBodyBytes: Int
    let ledger: ConnectionLedger

    init(handler: any ServerHandler, maxBodyBytes: Int, ledger: ConnectionLedger) {
        self.handler = handler
        self.maxBodyBytes = maxBodyBytes
        self.ledger = ledger
    }

    /// The pointer MHD hands back to the callbacks; unretained: the server keeps `self` alive
    /// until the daemon has stopped.
    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// The context behind a callback's pointer.
    static func from(opaque: UnsafeMutableRawPointer) -> HandlerContext {
        Unmanaged<HandlerContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

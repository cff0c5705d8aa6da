import Dispatch

/// What the C callback reaches through its context pointer; lives as long as the server.
final class HandlerContext: Sendable {
    let handler: any ServerHandler
    let maxBodyBytes: Int
    let ledger: ConnectionLedger
    /// How long a new connection has for its first request head, as the timer takes it; nil: no
    /// deadline.
    let requestHeadDeadline: DispatchTimeInterval?

    init(handler: any ServerHandler, maxBodyBytes: Int, ledger: ConnectionLedger, requestHeadDeadline: Duration?) {
        self.handler = handler
        self.maxBodyBytes = maxBodyBytes
        self.ledger = ledger
        self.requestHeadDeadline = requestHeadDeadline.map { deadline in
            let (seconds, attoseconds) = deadline.components
            return .milliseconds(Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
        }
    }

    /// The pointer MHD hands back to the access handler; unretained: the server keeps `self`
    /// alive until the daemon has stopped.
    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// The context behind the access handler's pointer.
    static func from(opaque: UnsafeMutableRawPointer) -> HandlerContext {
        Unmanaged<HandlerContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

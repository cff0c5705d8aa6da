/// What the C callback reaches through its context pointer; lives as long as the server.
final class HandlerContext: Sendable {
    let handler: any ServerHandler
    let maxBodyBytes: Int
    init(handler: any ServerHandler, maxBodyBytes: Int) {
        self.handler = handler
        self.maxBodyBytes = maxBodyBytes
    }

    /// The pointer MHD hands back to the access handler; unretained: the server keeps `self`
    /// alive until the daemon has stopped.
    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// The context behind the access handler's pointer.
    static func from(opaque: UnsafeMutableRawPointer) -> HandlerContext {
        Unmanaged<HandlerContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

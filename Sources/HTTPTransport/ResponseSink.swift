/// Where a successful response's body goes as it arrives, a piece at a time, instead of memory:
/// for streams that do not end on their own account (a Kubernetes watch), read while they last.
///
/// `receive` runs on the transport's thread for each piece, in order, and should return quickly;
/// returning false stops the transfer (`send` then throws `stopped`). Between pieces, the
/// transport asks `stopRequested` about once a second, so a reader can end a quiet stream too. A
/// non-2xx response's body is kept in memory as usual, so its error document can still be read.
public struct ResponseSink: Sendable {
    public let receive: @Sendable (UnsafeRawBufferPointer) -> Bool
    public let stopRequested: @Sendable () -> Bool

    /// A sink calling `receive` with each piece of the body.
    public init(
        stopRequested: @escaping @Sendable () -> Bool = { false },
        _ receive: @escaping @Sendable (UnsafeRawBufferPointer) -> Bool
    ) {
        self.receive = receive
        self.stopRequested = stopRequested
    }
}

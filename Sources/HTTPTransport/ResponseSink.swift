/// Where a successful response's body goes as it arrives, a piece at a time, instead of memory:
/// for streams that do not end on their own account (a Kubernetes watch), read while they last.
///
/// `receive` runs on the transport's thread for each piece, in order, and should return quickly;
/// returning false stops the transfer (`send` then throws `cancelled`). A non-2xx response's body
/// is kept in memory as usual, so its error document can still be read.
public struct ResponseSink: Sendable {
    public let receive: @Sendable (UnsafeRawBufferPointer) -> Bool

    /// A sink calling `receive` with each piece of the body.
    public init(_ receive: @escaping @Sendable (UnsafeRawBufferPointer) -> Bool) {
        self.receive = receive
    }
}

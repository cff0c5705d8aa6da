/// A range of an open file: where a request's body is read from, or a successful response's body
/// written to, so that a transfer of any size never sits in memory.
///
/// The descriptor stays the caller's: the transport reads and writes it with `pread`/`pwrite` at
/// `offset` and never closes it.
public struct FileSlice: Sendable, Equatable {
    /// An open file descriptor.
    public var descriptor: Int32
    /// Where the slice starts, in bytes.
    public var offset: Int64
    /// How many bytes it holds: exactly this many are sent; at most this many are accepted.
    public var length: Int64

    /// A slice of `length` bytes at `offset` of `descriptor`.
    public init(descriptor: Int32, offset: Int64, length: Int64) {
        self.descriptor = descriptor
        self.offset = offset
        self.length = length
    }
}

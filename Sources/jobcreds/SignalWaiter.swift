import Dispatch
import Glibc

/// Waits for signals with dispatch sources (the signals are ignored first, so they only wake us).
final class SignalWaiter: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private var iterator: AsyncStream<Int32>.Iterator
    private let continuation: AsyncStream<Int32>.Continuation

    init(_ numbers: [Int32]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.continuation = continuation
        iterator = stream.makeAsyncIterator()
        for number in numbers {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [continuation] in continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
    }

    /// The next signal received. Call from one task at a time.
    func next() async -> Int32 {
        await iterator.next() ?? SIGTERM
    }
}

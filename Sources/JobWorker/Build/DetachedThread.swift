import Glibc

/// A thread of its own for a blocking wait (waitpid, a pipe's reads), so that none of Swift's
/// cooperative threads ever blocks.
enum DetachedThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `body` on a new detached thread; runs it on the caller's thread if none can be made.
    static func start(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(body))
        var thread = pthread_t()
        let made = pthread_create(
            &thread, nil,
            { context in
                guard let context else { return nil }
                Unmanaged<Body>.fromOpaque(context).takeRetainedValue().run()
                return nil
            }, box.toOpaque())
        if made == 0 {
            pthread_detach(thread)
        } else {
            box.takeRetainedValue().run()
        }
    }
}

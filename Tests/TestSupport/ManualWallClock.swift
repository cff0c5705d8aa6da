import AWSSigning
import Foundation
import Synchronization

/// A wall clock that moves only when a test says so.
public final class ManualWallClock: WallClock {
    private let current: Mutex<Date>

    /// Starts the clock at `start`.
    public init(_ start: Date = Date(timeIntervalSince1970: 1_764_000_000)) {
        current = Mutex(start)
    }

    public var now: Date { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(by duration: Duration) {
        current.withLock { $0 = $0.addingTimeInterval(TimeInterval(duration.components.seconds)) }
    }
}

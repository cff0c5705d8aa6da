#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Tells the time of day. Injected wherever expiry is computed, so tests move time instead of
/// sleeping.
public protocol WallClock: Sendable {
    /// The current time.
    var now: Date { get }
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    /// Creates the clock.
    public init() {}
    public var now: Date { Date() }
}

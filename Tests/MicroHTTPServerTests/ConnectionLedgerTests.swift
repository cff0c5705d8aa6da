import Testing

@testable import MicroHTTPServer

/// The ledger's accounting across the hand-over to libmicrohttpd.
@Suite struct ConnectionLedgerTests {
    static func ledger() -> ConnectionLedger {
        ConnectionLedger(.init(perOwner: 2, total: 100, reserved: 0, privileged: []))
    }

    static func open(_ ledger: ConnectionLedger, descriptor: Int32) -> (ConnectionLedger.Record, Bool) {
        let (record, refusal) = ledger.opened(
            descriptor: descriptor, owner: .user(1000), clientAddress: "127.0.0.1", clientPort: 1)
        return (record, refusal == nil)
    }

    @Test func aConnectionCountsUntilLibmicrohttpdClosesIt() {
        let ledger = Self.ledger()
        let (first, _) = Self.open(ledger, descriptor: 5)
        ledger.handOver(first)
        let claimed = ledger.claim(descriptor: 5)
        #expect(claimed === first)
        #expect(ledger.claim(descriptor: 5) == nil)
        #expect(Self.open(ledger, descriptor: 6).1)
        #expect(!Self.open(ledger, descriptor: 7).1)  // the owner's two slots are taken
        ledger.closed(first)
        #expect(Self.open(ledger, descriptor: 8).1)
    }

    /// A connection libmicrohttpd closed without telling (its start failed) leaves its record
    /// waiting on a descriptor; when that descriptor comes back with a new connection, the old
    /// slot is freed instead of leaking.
    @Test func aHandOverLibmicrohttpdDroppedFreesItsSlotWhenTheDescriptorComesBack() {
        let ledger = Self.ledger()
        let (dropped, _) = Self.open(ledger, descriptor: 5)
        ledger.handOver(dropped)
        let (next, admitted) = Self.open(ledger, descriptor: 5)
        #expect(admitted)
        ledger.handOver(next)
        #expect(Self.open(ledger, descriptor: 6).1)  // would be refused if `dropped` still counted
        #expect(ledger.claim(descriptor: 5) === next)
    }
}

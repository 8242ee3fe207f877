import SymphonyEvents
import Testing
@testable import SymphonyEngine

@Suite struct DerivationLedgerTests {
    func derived(_ id: String) -> Event {
        Event(type: "d", payload: [:], id: id, causation: Causation(parentID: "root", rule: "r", hop: 1))
    }

    @Test("entries spread over the stripes are each taken once with their own budget; withdraw, discard and removeAll find theirs")
    func entriesAcrossStripes() throws {
        let ledger = DerivationLedger(limit: 10_000)
        let budgets = (0..<3).map { DerivationLedger.Budget(rootID: "root-\($0)") }
        // Ids ending in every digit a generated id can end in (and other bytes), over three budgets.
        let digits = EventIDGenerator.digits
        let ids = (0..<1_000).map { "p-" + String(decoding: [digits[$0 / 32 % 32], digits[$0 % 32]], as: UTF8.self) + ($0 % 7 == 0 ? "é" : "") }
        for (index, id) in ids.enumerated() { try ledger.enter(derived(id), drawingOn: budgets[index % 3]) }
        #expect(ledger.awaitingCount == 1_000)
        for (index, id) in ids.enumerated() where index % 2 == 0 {
            #expect(ledger.take(derived(id)) === budgets[index % 3])
            #expect(ledger.take(derived(id)) == nil)  // taken once
        }
        #expect(ledger.awaitingCount == 500)
        ledger.withdraw(derived(ids[1]), from: budgets[1])
        ledger.discard(derived(ids[3]))
        #expect(ledger.take(derived(ids[1])) == nil)
        #expect(ledger.take(derived(ids[3])) == nil)
        #expect(ledger.awaitingCount == 498)
        ledger.removeAll()
        #expect(ledger.awaitingCount == 0)
        #expect(ledger.take(derived(ids[5])) == nil)
        // An input event (no causation) has no entry and takes no lock.
        #expect(ledger.take(Event(type: "i", payload: [:])) == nil)
    }

    @Test("the 32 digits a generated id ends in fall two to a stripe")
    func evenStripes() {
        let stripes = EventIDGenerator.digits.map { DerivationLedger.stripeIndex(of: "k3j9x2m4q-" + String(decoding: [$0], as: UTF8.self)) }
        #expect(Set(stripes).count == 16)
        #expect((0..<16).allSatisfy { stripe in stripes.count { $0 == stripe } == 2 })
        #expect(DerivationLedger.stripeIndex(of: "") == 0 && DerivationLedger.stripeIndex(of: "é") < 16)
    }

    @Test("a budget stops at its limit; a withdrawn entry gives its unit back")
    func limit() throws {
        let ledger = DerivationLedger(limit: 2)
        let budget = DerivationLedger.Budget(rootID: "root")
        try ledger.enter(derived("a"), drawingOn: budget)
        try ledger.enter(derived("b"), drawingOn: budget)
        let error = #expect(throws: (any Error).self) { try ledger.enter(derived("c"), drawingOn: budget) }
        #expect("\(error.map { "\($0)" } ?? "")".contains(DerivationLedger.exhaustedMessage(limit: 2, rootID: "root")))
        ledger.withdraw(derived("b"), from: budget)
        try ledger.enter(derived("c"), drawingOn: budget)
        #expect(ledger.awaitingCount == 2)
    }
}

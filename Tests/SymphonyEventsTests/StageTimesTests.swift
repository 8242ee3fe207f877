import SymphonyEvents
import Synchronization
import Testing

@Suite struct StageTimesTests {
    @Test("off: nothing is measured and marks are 0; on: measured time is added to its stage")
    func onAndOff() {
        let times = StageTimes()
        #expect(times.mark() == 0)
        times.measure(.decode) { spin() }
        #expect(times.snapshot()[.decode] == 0)
        times.setEnabled(true)
        #expect(times.mark() != 0)
        times.measure(.decode) { spin() }
        #expect(times.snapshot()[.decode]! > 0)
        #expect(times.snapshot()[.queue] == 0)
        times.reset()
        #expect(times.snapshot()[.decode] == 0)
    }

    @Test("intents run inside match: the snapshot reports match without them")
    func nesting() {
        let times = StageTimes()
        times.setEnabled(true)
        times.measure(.match) {
            spin()  // match's own work, outside the inner stage
            times.measure(.intents) { spin() }
        }
        let snapshot = times.snapshot()
        #expect(snapshot[.intents]! > 0)
        #expect(snapshot[.match]! > 0)  // what is left of the outer stage is its own work
        // The subtraction itself: intents measured alone leave match at minus their time.
        let alone = StageTimes()
        alone.setEnabled(true)
        alone.measure(.intents) { spin() }
        #expect(alone.snapshot()[.match]! == -alone.snapshot()[.intents]!)
        #expect(alone.snapshot()[.intents]! > 0)
    }

    @Test("a throwing body is still measured and its error passes through")
    func throwing() {
        struct Boom: Error {}
        let times = StageTimes()
        times.setEnabled(true)
        #expect(throws: Boom.self) { try times.measure(.actions) { spin(); throw Boom() } }
        #expect(times.snapshot()[.actions]! > 0)
    }
}

/// Busy work the optimizer cannot remove (its result is stored atomically), so a measured stage takes some time.
private func spin() {
    var value = spinSink.load(ordering: .relaxed) | 1
    for index in 0..<10_000 { value = value &* 6_364_136_223_846_793_005 &+ UInt64(index) }
    spinSink.store(value, ordering: .relaxed)
}

private let spinSink = Atomic<UInt64>(1)

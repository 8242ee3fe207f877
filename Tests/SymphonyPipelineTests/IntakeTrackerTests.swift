import SymphonyConcurrency
import Testing

@testable import SymphonyPipeline

/// The intake mark against a model kept the plain way: every event up to the mark is recorded
/// and handled, in input order, whatever order workers handle them in.
@Suite struct IntakeTrackerTests {
    /// The tracker's rules, with no bookkeeping beyond arrays.
    struct Model {
        var ids: [String] = []
        var recorded: [Bool] = []
        var handled: [Bool] = []
        var dropped: [Bool] = []
        var nextToRecord = 0
        var head = 0
        /// Positions not yet handled, by id, oldest first.
        var unhandled: [String: [Int]] = [:]

        mutating func advance() -> String? {
            var mark: String?
            while head < ids.count, recorded[head], handled[head] {
                if !dropped[head] { mark = ids[head] }
                head += 1
            }
            return mark
        }
    }

    @Test("marks follow the model over 20,000 events with repeated ids, drops and handling out of order")
    func matchesModel() {
        let marks = Locked<[String]>(["start"])
        let tracker = IntakeTracker { mark in marks.withLock { $0.append(mark) } }
        var model = Model()
        var expected = ["start"]
        var generator = SplitMix64(seed: 5)
        var inFlight: [String] = []  // admitted, not yet handled (by id, oldest first per id)
        var nextID = 0
        while nextID < 20_000 || !inFlight.isEmpty {
            switch Int.random(in: 0..<3, using: &generator) {
            case 0 where nextID < 20_000:
                // Admit a batch (some ids repeat an earlier one still in flight), then record or drop it.
                let count = Int.random(in: 1...64, using: &generator)
                var ids: [String] = []
                for _ in 0..<count {
                    let repeated = !inFlight.isEmpty && Int.random(in: 0..<50, using: &generator) == 0
                    ids.append(repeated ? inFlight[Int.random(in: 0..<inFlight.count, using: &generator)] : "e-\(nextID)")
                    nextID += 1
                }
                tracker.admit(ids)
                for id in ids {
                    model.unhandled[id, default: []].append(model.ids.count)
                    model.ids.append(id)
                    model.recorded.append(false)
                    model.handled.append(false)
                    model.dropped.append(false)
                }
                let dropped = Int.random(in: 0..<20, using: &generator) == 0 ? Int.random(in: 1...count, using: &generator) : 0
                tracker.recorded(count - dropped)
                for _ in 0..<(count - dropped) {
                    model.recorded[model.nextToRecord] = true
                    model.nextToRecord += 1
                }
                if let mark = model.advance() { expected.append(mark) }
                inFlight += ids.prefix(count - dropped)
                if dropped > 0 {
                    tracker.dropped(dropped)
                    for _ in 0..<dropped {
                        model.recorded[model.nextToRecord] = true
                        model.dropped[model.nextToRecord] = true
                        model.handled[model.nextToRecord] = true
                        model.unhandled[model.ids[model.nextToRecord]]?.removeAll { $0 == model.nextToRecord }
                        model.nextToRecord += 1
                    }
                    if let mark = model.advance() { expected.append(mark) }
                }
            default:
                // Handle some in flight, each picked among the oldest few (as two workers and a
                // queue ordered by priority do); the tracker takes the oldest position of an id.
                for _ in 0..<Int.random(in: 0...40, using: &generator) where !inFlight.isEmpty {
                    let id = inFlight.remove(at: Int.random(in: 0..<min(inFlight.count, 12), using: &generator))
                    tracker.handled(id)
                    if let position = model.unhandled[id]?.first {
                        model.unhandled[id]?.removeFirst()
                        model.handled[position] = true
                    }
                    if let mark = model.advance() { expected.append(mark) }
                }
            }
        }
        tracker.handled("never-admitted")
        #expect(marks.withLock { $0 } == expected)
        #expect(expected.count > 1_000)
        #expect(model.head == model.ids.count)
    }
}

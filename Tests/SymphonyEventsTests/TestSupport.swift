import Foundation
import Logging
import Synchronization
import SymphonyCrypto
@testable import SymphonyEvents
import SymphonyConcurrency

/// Collects delivered events from handlers on worker threads and lets a test wait for a count.
final class Recorder: Sendable {
    private let events = Locked<[Event]>([])
    private let condition = NSCondition()

    func record(_ event: Event) {
        events.withLock { $0.append(event) }
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until at least `count` events arrived; the generous limit only bounds a failing test.
    @discardableResult
    func wait(for count: Int, limit: TimeInterval = 300) -> Bool {
        let deadline = Date(timeIntervalSinceNow: limit)
        condition.lock()
        defer { condition.unlock() }
        while all.count < count {
            if !condition.wait(until: deadline) { return all.count >= count }
        }
        return true
    }

    var all: [Event] { events.withLock { $0 } }
    var ids: [String] { all.map(\.id) }
}

/// A one-shot gate: threads wait until it opens.
final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func open() { semaphore.signal() }
    func wait() { semaphore.wait() }
}

/// A log handler that keeps every message.
struct CapturingLogHandler: LogHandler {
    final class Storage: Sendable {
        let messages = Locked<[(Logger.Level, String)]>([])
    }
    let storage: Storage
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        storage.messages.withLock { $0.append((event.level, "\(event.message)")) }
    }
}

extension EventSystemConfiguration {
    /// A configuration for tests: `workers` workers, a manual clock, an ephemeral key.
    static func testing(workers: Int = 2, clock: any SchedulerClock = ManualClock()) -> EventSystemConfiguration {
        var configuration = EventSystemConfiguration()
        configuration.workerCount = workers
        configuration.clock = clock
        configuration.logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        return configuration
    }
}

/// Runs `body` on `count` threads at once and waits for all of them.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            body(index)
            group.leave()
        }.start()
    }
    group.wait()
}

/// A small seeded generator (SplitMix64), so generated test input is the same every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A system sealing under a key the test holds, with a collecting dead-letter sink and a recorder
/// subscribed to every type: what tests of envelopes that do not open start from.
func keyedSystem(workers: Int = 1) throws -> (system: EventSystem, key: EncryptionKey, sink: CollectingDeadLetterSink, recorder: Recorder) {
    let key = try EncryptionKey.generate()
    var configuration = EventSystemConfiguration.testing(workers: workers)
    configuration.encryption = .keyRing(KeyRing(active: key))
    let sink = CollectingDeadLetterSink()
    configuration.deadLetters = sink
    let system = try EventSystem(configuration: configuration)
    let recorder = Recorder()
    try system.subscribe("**") { recorder.record($0) }
    return (system, key, sink, recorder)
}

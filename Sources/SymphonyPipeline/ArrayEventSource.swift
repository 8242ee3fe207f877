import SymphonyEvents

/// Events (or rejections) given in memory, in order: a source for tests and embedders.
public struct ArrayEventSource: EventSource {
    /// The items, each with its origin `name:N`.
    public let items: [SourceItem]

    /// A source of `events` named `name` (origins `name:1`, `name:2`, …).
    public init(name: String = "<memory>", events: [Result<Event, InputLineError>]) {
        items = events.enumerated().map { SourceItem(result: $1, origin: SourceOrigin(source: name, line: $0 + 1)) }
    }

    public func forEach(beforeRead: @escaping () -> Void, stop: StopRequest?, _ body: (SourceItem) throws -> Bool) throws -> Bool {
        for item in items {
            if stop?.isRequested == true { break }
            guard try body(item) else { break }
        }
        beforeRead()
        return true
    }
}

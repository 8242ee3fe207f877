import Glibc

/// A joinable OS thread for benchmark publishers.
final class BenchThread {
    private final class Start {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    private var handle = pthread_t()

    init(_ body: @escaping @Sendable () -> Void) {
        let start = Unmanaged.passRetained(Start(body)).toOpaque()
        let result = pthread_create(
            &handle, nil,
            { argument in
                Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue().body()
                return nil
            }, start)
        precondition(result == 0, "pthread_create failed")
    }

    func join() { pthread_join(handle, nil) }
}

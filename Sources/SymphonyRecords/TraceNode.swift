/// A node of a causal trace: an event, what each rule did with it, and what that caused.
public struct TraceNode: Sendable {
    public let event: StoredEvent
    public let executions: [(execution: ExecutionRow, child: TraceNode?)]
    /// Delayed events this event caused whose `delay` execution is not recorded (the process died
    /// after the scheduled entry was committed, before the execution was), found through their
    /// fired entry in `scheduled`, with what they caused.
    public let unrecordedDelays: [TraceNode]

    /// A node of a trace.
    public init(event: StoredEvent, executions: [(execution: ExecutionRow, child: TraceNode?)], unrecordedDelays: [TraceNode]) {
        self.event = event
        self.executions = executions
        self.unrecordedDelays = unrecordedDelays
    }
}

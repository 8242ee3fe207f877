/// Why a node will not take something it was given (a rule set with side effects, say).
public struct ClusterRefusal: Error, CustomStringConvertible {
    /// What was refused, and why.
    public let description: String
}

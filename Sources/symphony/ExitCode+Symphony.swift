import ArgumentParser

extension ExitCode {
    /// Some input lines were rejected (sysexits EX_DATAERR).
    static let inputRejected = ExitCode(65)
    /// A dry run with --expect-match: no rule matched any event.
    static let nothingMatched = ExitCode(3)
    /// A file could not be read (sysexits EX_NOINPUT).
    static let noInput = ExitCode(66)
}

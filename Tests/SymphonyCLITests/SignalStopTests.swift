import Foundation
import SymphonyRecords
import SymphonyStore
import Testing

/// SIGINT and SIGTERM during `symphony run`: every line read is processed or reported, and a run
/// whose events keep deriving still stops. Nothing here waits on timing luck: each test waits for
/// a condition (the input read, an output line) before it signals, and its time limits only bound
/// a test that fails by hanging.
@Suite(.timeLimit(.minutes(12))) struct SignalStopTests {
    /// A fresh directory with a key for `--db`/`--key-file`.
    func state() throws -> (directory: String, db: String, key: String) {
        let directory = try freshDirectory()
        let key = directory + "/key"
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        return (directory, directory + "/h.db", key)
    }

    func summary(_ stderr: String) -> String? {
        stderr.split(separator: "\n").map(String.init).first { $0.hasPrefix("symphony: ") && $0.contains(" events read") }
    }

    @Test("SIGTERM while lines already read wait in the run's buffers: every line read is processed, counted and recorded")
    func linesReadBeforeTheSignal() throws {
        let (directory, db, key) = try state()
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("rules:\n  - {name: answer, on: tick, actions: [{emit: {type: tock}}]}\n".utf8))
        let total = 20_000
        // 40,000 bytes in the pipe before the process starts: its first read takes them all.
        let command = try HeldOutputCommand(
            ["run", "--rules", rules, "--lines", "tick", "--db", db, "--key-file", key], stdin: Data(String(repeating: "x\n", count: total).utf8),
            directory: directory)
        // Every line is read now. Nobody reads the run's stdout yet, so its emitted events fill the
        // pipe, the workers wait to write, the queue fills at 8,192 events and the reader waits to
        // publish: most of the 20,000 lines are still in its buffer when the signal arrives.
        #expect(command.waitUntilInputRead())
        command.signal(SIGTERM)
        let result = try #require(command.finish(), "the run did not exit after SIGTERM")
        #expect(result.status == 143)
        #expect(
            summary(result.stderr)?.hasPrefix(
                "symphony: 20,000 events read, 0 rejected, 20,000 processed, 20,000 rules fired; "
                    + "actions: publish 0, delay 0, audit 0, emit 20,000, stop 0; 0 errors;") == true, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == total)
        // History holds every event the summary counts as read, each with its execution.
        let reader = try HistoryReader(path: db, sealer: nil)
        var query = HistoryQuery()
        query.rule = "answer"
        query.limit = 2 * total
        let ids = Set(try reader.executions(query).map(\.eventID))
        #expect(ids.count == total)
        #expect(try ids.allSatisfy { try reader.event(id: $0) != nil })
    }

    @Test("SIGTERM with half a line read: the lines before it are processed, the half line is reported as not processed")
    func halfALine() throws {
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("rules:\n  - {name: answer, on: tick, actions: [{emit: {type: tock}}]}\n".utf8))
        let command = try RunningCommand(["run", "--rules", rules, "--no-history"])
        // One small write is one read: once t-1 was handled, the half line is in the reader too.
        command.write(#"{"type":"tick","id":"t-1"}"# + "\n" + #"{"type":"ti"#)
        #expect(command.waitForOutput(containing: "tock"))
        let result = try #require(command.stop(with: SIGTERM, within: 300), "the run did not exit after SIGTERM")
        #expect(result.status == 143)
        // Not a line read (its end never was), so not counted; but reported, with where it stopped.
        #expect(result.stderr.hasPrefix("<stdin>:2: not processed: a signal stopped the input after 11 bytes of this line, before its end\n"))
        #expect(summary(result.stderr)?.hasPrefix("symphony: 1 events read, 0 rejected, 1 processed") == true, "\(result.stderr)")
    }

    @Test("SIGTERM while events keep deriving: publishes are refused from then on, the queue drains, the run exits 143")
    func stopsWhileDeriving() throws {
        let (_, db, key) = try state()
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("""
            rules:
              - name: start
                on: loop.start
                actions:
                  - publish: {type: loop.tick}
                  - emit: {type: loop.started}
              - name: tick
                on: loop.tick
                actions:
                  - publish: {type: "{{ type }}"}
            """.utf8))
        // Limits far beyond reach: only the signal ends this chain.
        let command = try RunningCommand(
            ["run", "--rules", rules, "--db", db, "--key-file", key, "--hop-limit", "1000000000", "--max-derived", "1000000000"])
        command.write(#"{"type":"loop.start","id":"s-1"}"# + "\n")
        #expect(command.waitForOutput(containing: "loop.started"))
        let stopped = command.stop(with: SIGTERM, within: 120)
        let result = try #require(stopped, "SIGTERM did not end a run whose events keep deriving")
        #expect(result.status == 143)
        let line = try #require(summary(result.stderr))
        #expect(line.hasPrefix("symphony: 1 events read, 0 rejected, "))
        // The one event in flight had its publish refused; every other publish went out and was processed.
        let numbers = line.split(separator: " ").compactMap { Int($0.filter { $0 != "," && $0 != ";" }) }
        let processed = numbers[2]
        #expect(line.contains(" processed, \(grouped(processed)) rules fired; actions: publish \(grouped(processed - 1)), delay 0,"), "\(line)")
        #expect(line.contains("; 1 errors;"), "\(line)")
        var failed = HistoryQuery()
        failed.outcome = "failed"
        let failures = try HistoryReader(path: db, sealer: nil).executions(failed)
        #expect(failures.map(\.rule) == ["tick"])
        #expect(failures.map(\.error) == ["the run is stopping (SIGTERM); derived events are no longer published"])
    }

    /// `value` with thousands separators, as the summary prints it.
    func grouped(_ value: Int) -> String {
        let digits = String(value)
        var output = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { output += "," }
            output.append(character)
        }
        return output
    }
}

import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct RunCommandTests {
    @Test("running valid events prints one line per delivered event and a summary, exit 0")
    func validEvents() throws {
        let events = """
            {"type": "ticket.created", "priority": 3, "id": "t-1", "payload": {"text": "refund please"}}
            {"type": "ssh.login.failed", "priority": 1, "id": "s-1"}
            {"type": "deploy.finished", "id": "d-1"}

            """
        let path = try temporaryFile(named: "events.jsonl", contents: Data(events.utf8))
        let result = try CommandRunner.run(["run", "--events", path])
        #expect(result.status == 0)
        #expect(Set(result.stdoutLines) == ["3 ticket.created t-1", "1 ssh.login.failed s-1", "5 deploy.finished d-1"])
        #expect(result.stderrLines.count == 1)
        #expect(result.stderr.hasPrefix("symphony: 3 lines read, 0 rejected, 3 published, 3 delivered, 0 failed in "))
        #expect(!result.stdout.contains("refund"))
    }

    @Test("bad lines on stdin are reported with their line number and reason, counted, and the run goes on (exit 65)")
    func badLines() throws {
        let input = "{\"type\":\"a.b\",\"id\":\"ok-1\"}\r\nnot json\n{\"payload\":{}}\n{\"type\":\"x\",\"priority\":12}\n"
            + "{\"type\":\"bad..type\"}\n{\"type\":\"a.b\",\"payload\":[1]}\n[1,2]\n{\"type\":\"c\",\"id\":\"ok-2\"}"
        let result = try CommandRunner.run(["run", "--workers", "1"], stdin: input)
        #expect(result.status == 65)
        #expect(Set(result.stdoutLines) == ["5 a.b ok-1", "5 c ok-2"])
        #expect(
            Array(result.stderrLines.dropLast()) == [
                "<stdin>:2: rejected: not valid JSON",
                "<stdin>:3: rejected: missing required field 'type'",
                "<stdin>:4: rejected: 'priority' must be an integer from 0 to 9, not 12",
                "<stdin>:5: rejected: Invalid event type 'bad..type': it has an empty segment.",
                "<stdin>:6: rejected: 'payload' must be a JSON object",
                "<stdin>:7: rejected: not a JSON object",
            ])
        #expect(result.stderrLines.last?.hasPrefix("symphony: 8 lines read, 6 rejected, 2 published, 2 delivered") == true)
    }

    @Test("invalid UTF-8 and over-long lines are rejected without stopping the run")
    func hostileLines() throws {
        var bytes = Array("{\"type\":\"a.b\",\"id\":\"first\"}\n".utf8)
        bytes += [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D, 0x0A]
        bytes += Array("{\"type\":\"a.b\",\"payload\":{\"text\":\"".utf8) + Array(repeating: UInt8(ascii: "x"), count: 2 << 20)
            + Array("\"}}\n".utf8)
        bytes += Array("{\"type\":\"a.b\",\"id\":\"last\"}".utf8)
        let path = try temporaryFile(named: "hostile.jsonl", contents: Data(bytes))
        let result = try CommandRunner.run(["run", "--events", path])
        #expect(result.status == 65)
        #expect(Set(result.stdoutLines) == ["5 a.b first", "5 a.b last"])
        #expect(result.stderr.contains("hostile.jsonl:2: rejected: not valid JSON"))
        #expect(result.stderr.contains("hostile.jsonl:3: rejected: line is longer than 1048576 bytes"))
    }

    @Test("an unreadable input file is reported and exits 66")
    func missingFile() throws {
        let result = try CommandRunner.run(["run", "--events", "/nonexistent/events.jsonl"])
        #expect(result.status == 66)
        #expect(result.stderrLines.first == "symphony: cannot read '/nonexistent/events.jsonl': No such file or directory")
    }

    @Test("bad options are usage errors (exit 64) and --help explains the command")
    func usage() throws {
        let bad = try CommandRunner.run(["run", "--workers", "0"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--workers must be at least 1, not 0."))
        let help = try CommandRunner.run(["run", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("Exit codes: 0 all input accepted; 65 some lines were rejected"))
    }

    @Test("--no-encryption runs the same events and warns on stderr")
    func noEncryption() throws {
        let result = try CommandRunner.run(["run", "--no-encryption"], stdin: "{\"type\":\"a.b\",\"id\":\"x\"}\n")
        #expect(result.status == 0)
        #expect(result.stdoutLines == ["5 a.b x"])
        #expect(result.stderr.contains("ENCRYPTION IS OFF"))
    }
}

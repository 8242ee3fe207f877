import Foundation
import Testing

/// docs/reference/cli.md is every command's `--help`, as `symphony help COMMAND` prints it at 100
/// columns. This test builds that page from the binary and fails when the file differs; with
/// SYMPHONY_WRITE_CLI_REFERENCE=1 (`make cli-reference`) it writes the page instead.
@Suite struct CLIReferenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let path = "docs/reference/cli.md"
    static let columns = "100"

    /// `symphony help` for a command path (empty: the top level), at the reference's width.
    func help(_ command: [String]) throws -> String {
        let result = try CommandRunner.run(["help"] + command, environment: ["COLUMNS": Self.columns])
        #expect(result.status == 0, "symphony help \(command.joined(separator: " ")): \(result.stderr)")
        return result.stdout
    }

    /// The subcommands a help text lists under SUBCOMMANDS (`help` itself left out).
    static func subcommands(in help: String) -> [String] {
        var names: [String] = []
        var inSection = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") {
                inSection = true
            } else if inSection {
                // Entries are indented two spaces, wrapped abstracts further; a blank line ends them.
                guard line.hasPrefix("  ") else {
                    inSection = false
                    continue
                }
                guard !line.hasPrefix("   "), let name = line.split(separator: " ").first else { continue }
                if name != "help" { names.append(String(name)) }
            }
        }
        return names
    }

    /// Every command path, depth first, the top level first.
    func commands(under path: [String] = []) throws -> [(path: [String], help: String)] {
        let text = try help(path)
        var all = [(path, text)]
        for name in Self.subcommands(in: text) { all += try commands(under: path + [name]) }
        return all
    }

    /// The page: a list of the commands, then one section per command with its help verbatim.
    func page() throws -> String {
        let commands = try commands()
        var lines = [
            "# Command-line reference", "",
            "Every command's options as `symphony help COMMAND` prints them (here at \(Self.columns) columns). This page is",
            "generated from the commands themselves: `make cli-reference` rewrites it, and a test fails when it",
            "differs from what they print.", "",
        ]
        for (path, _) in commands {
            let name = (["symphony"] + path).joined(separator: " ")
            lines.append("- [`\(name)`](#\(name.replacingOccurrences(of: " ", with: "-")))")
        }
        for (path, help) in commands {
            lines += ["", "## `" + (["symphony"] + path).joined(separator: " ") + "`", "", "```text"]
            lines.append(help.trimmingCharacters(in: .newlines))
            lines.append("```")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("docs/reference/cli.md is every command's --help, as the commands print it now")
    func referenceMatchesHelp() throws {
        let expected = try page()
        let file = Self.root.appendingPathComponent(Self.path)
        if ProcessInfo.processInfo.environment["SYMPHONY_WRITE_CLI_REFERENCE"] == "1" {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try expected.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let written = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        guard written != expected else { return }
        let old = written.split(separator: "\n", omittingEmptySubsequences: false)
        let new = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let first = zip(old, new).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(old.count, new.count)
        Issue.record(
            """
            \(Self.path) differs from the commands' --help from line \(first + 1):
              the file: \(first < old.count ? String(old[first]) : "(ends)")
              --help:   \(first < new.count ? String(new[first]) : "(ends)")
            Run `make cli-reference` to regenerate it.
            """)
    }

    @Test("the reference's command list is found by reading SUBCOMMANDS sections")
    func subcommandParsing() {
        let help = """
            USAGE: symphony <subcommand>

            SUBCOMMANDS:
              run (default)           Run rules.
              intents                 Recognize intents in free text: classify texts, or measure how well the
                                      intents do.
              help                    Show subcommand help information.

              See 'symphony help <subcommand>' for detailed help.
            """
        #expect(Self.subcommands(in: help) == ["run", "intents"])
    }
}

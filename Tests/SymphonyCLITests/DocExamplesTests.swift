import Foundation
import Testing

/// The docs' examples, run as written: for each document with `console` blocks, its files are
/// created and its commands run in order in one fresh directory (holding copies of the shipped
/// `rules/` and `samples/`), and each command's output (standard output and error, as a terminal
/// shows them) must be what the document shows — so the docs fail the build when they drift.
///
/// In the Markdown, a fenced block with `file=PATH` in its info string is a file to create; a
/// `console` block holds commands (`$ …`) each followed by its output. In output, `…` stands for
/// any text within a line, and a line that is only `…` for any number of lines.
@Suite struct DocExamplesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// One step of a document: a file to write, or a command and the output it must print.
    enum Step {
        case file(path: String, contents: String)
        case command(String, expected: [String], line: Int)
    }

    static func steps(of markdown: String) -> [Step] {
        var steps: [Step] = []
        let lines = markdown.components(separatedBy: "\n")
        var index = 0
        while index < lines.count {
            let line = lines[index]
            index += 1
            guard line.hasPrefix("```"), line.count > 3 else { continue }
            let info = line.dropFirst(3).split(separator: " ")
            var body: [String] = []
            let start = index
            while index < lines.count, lines[index] != "```" {
                body.append(lines[index])
                index += 1
            }
            index += 1
            if let file = info.first(where: { $0.hasPrefix("file=") }) {
                steps.append(.file(path: String(file.dropFirst(5)), contents: body.joined(separator: "\n") + "\n"))
            } else if info.first == "console" {
                var current: (command: String, expected: [String], line: Int)?
                for (offset, text) in body.enumerated() {
                    if text.hasPrefix("$ ") {
                        if let current { steps.append(.command(current.command, expected: current.expected, line: current.line)) }
                        current = (String(text.dropFirst(2)), [], start + offset + 1)
                    } else {
                        current?.expected.append(text)
                    }
                }
                if let current { steps.append(.command(current.command, expected: current.expected, line: current.line)) }
            }
        }
        return steps
    }

    /// True when `actual` lines are `expected` ones: `…` inside a line is any text, a line that is
    /// only `…` any number of lines; trailing blanks are ignored.
    static func matches(_ actual: [String], _ expected: [String]) -> Bool {
        let actual = actual.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }.filter { !$0.isEmpty }
        let expected = expected.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }.filter { !$0.isEmpty }
        func lineMatches(_ text: String, _ pattern: String) -> Bool {
            let regex = "^" + pattern.components(separatedBy: "…").map(NSRegularExpression.escapedPattern(for:)).joined(separator: ".*") + "$"
            return text.range(of: regex, options: .regularExpression) != nil
        }
        // Memoized: can actual[i...] be matched by expected[j...]?
        var memo: [Int: Bool] = [:]
        func match(_ i: Int, _ j: Int) -> Bool {
            let key = i * (expected.count + 1) + j
            if let known = memo[key] { return known }
            let result: Bool
            if j == expected.count {
                result = i == actual.count
            } else if expected[j] == "…" {
                result = match(i, j + 1) || (i < actual.count && match(i + 1, j))
            } else {
                result = i < actual.count && lineMatches(actual[i], expected[j]) && match(i + 1, j + 1)
            }
            memo[key] = result
            return result
        }
        return match(0, 0)
    }

    /// Runs `command` in `directory` with `sh -c`, `symphony` on the PATH; standard output and
    /// error go to one pipe, in the order they are written. The wait is off Swift Testing's threads.
    static func run(_ command: String, in directory: String) async throws -> String {
        try await offThePool { try runBlocking(command, in: directory) }
    }

    private static func runBlocking(_ command: String, in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = testEnvironment()
        environment["PATH"] = CommandRunner.binary.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["COLUMNS"] = "200"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }

    /// The documents with examples to run: every Markdown file under docs/ with a `console` block.
    static let documents: [String] = {
        let docs = root.appendingPathComponent("docs")
        let files = FileManager.default.enumerator(at: docs, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        return files.filter { $0.pathExtension == "md" }
            .filter { ((try? String(contentsOf: $0, encoding: .utf8)) ?? "").contains("```console") }
            .map { String($0.path.dropFirst(root.path.count + 1)) }
            .sorted()
    }()

    @Test("every `console` example in docs/ prints what the docs show", .timeLimit(.minutes(12)), arguments: Self.documents)
    func examples(_ document: String) async throws {
        let markdown = try String(contentsOf: Self.root.appendingPathComponent(document), encoding: .utf8)
        let steps = Self.steps(of: markdown)
        #expect(steps.contains { if case .command = $0 { true } else { false } })
        // A fresh directory with copies of the shipped rules and samples, which examples may use.
        let directory = try freshDirectory()
        for shipped in ["rules", "samples"] {
            try FileManager.default.copyItem(atPath: Self.root.appendingPathComponent(shipped).path, toPath: directory + "/" + shipped)
        }
        for step in steps {
            switch step {
            case .file(let path, let contents):
                let url = URL(fileURLWithPath: directory + "/" + path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(contents.utf8).write(to: url)
            case .command(let command, let expected, let line):
                let output = try await Self.run(command, in: directory)
                let actual = output.components(separatedBy: "\n")
                #expect(Self.matches(actual, expected), "\(document):\(line): `\(command)` printed:\n\(output)\nbut the document shows:\n\(expected.joined(separator: "\n"))")
            }
        }
    }

    @Test("the tutorial is among the documents whose examples run, with at least six commands")
    func tutorialRuns() throws {
        #expect(Self.documents.contains("docs/tutorial.md"))
        let markdown = try String(contentsOf: Self.root.appendingPathComponent("docs/tutorial.md"), encoding: .utf8)
        #expect(Self.steps(of: markdown).filter { if case .command = $0 { true } else { false } }.count >= 6)
    }

    @Test("the example matcher: … within a line and as a line; extra or missing lines fail")
    func matcher() {
        #expect(Self.matches(["a 12 b", "x", "y", "end"], ["a … b", "…", "end"]))
        #expect(Self.matches(["a", "end"], ["a", "…", "end"]))
        #expect(!Self.matches(["a", "extra"], ["a"]))
        #expect(!Self.matches(["a"], ["a", "b"]))
        #expect(!Self.matches(["a (b) c"], ["a (x) c"]))
        #expect(Self.matches(["price: $5.00 [ok]  "], ["price: $5.00 [ok]"]))
    }
}

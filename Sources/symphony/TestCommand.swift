import ArgumentParser
import SymphonyDiagnostics
import SymphonyPipeline
import SymphonyRuleTesting
import SymphonyRules

/// `symphony test`: run rule tests — input events on a virtual clock, expected and forbidden outcomes.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run rule tests: given events, check which rules fire and what their actions make.",
        discussion: """
            A rule test file (NAME.test.yaml, beside the rules; a directory of rules does not count it as a rule \
            file) lists tests. Each gives input events with times ('at: 5m' from the test's start) or raw lines \
            ('line:', read by the rule set's 'lines:' parser), what must happen ('expect': a rule firing, or an \
            action with its derived event's type and payload fields, audit message or due time; 'count' for an \
            exact number) and what must not ('expect_not'). See docs/how-to/test-rules.md.

            Each test runs as a dry run on a virtual clock with fresh count/throttle state: delays move the \
            clock instead of sleeping, nothing is executed or written, and input ids are t1, t2, … unless given. \
            The rules are the test file's 'rules:' (relative to it) or, without one, the rule files in its \
            directory; --rules replaces them for every test file.

            Prints one line per test and, for a failure, what was expected, what was found and why the rule \
            did not fire; then 'N passed, N failed'. --format junit writes JUnit XML for CI systems.

            Exit codes: 0 every test passed; 1 a test failed, or a test or rule file has errors; 64 usage error; \
            77 --policy does not grant rules:validate.
            """)

    /// Output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, junit
    }

    @Argument(help: ArgumentHelp("Test files (*.test.yaml) or directories holding them.", valueName: "PATH"))
    var paths: [String] = []

    @Option(name: .long, help: ArgumentHelp("Test these rule files or directories instead of each test file's own (repeatable).", valueName: "PATH"))
    var rules: [String] = []

    @Option(name: .long, help: ArgumentHelp("Run only the tests whose name contains this text.", valueName: "TEXT"))
    var filter: String?

    @Option(name: .long, help: "text or junit.")
    var format: Format = .text

    @Flag(name: .shortAndLong, help: "Also show what happened in the tests that passed.")
    var verbose = false

    @OptionGroup var accessOptions: AccessOptions

    @Option(name: .long, help: ArgumentHelp("The key file, for sealed rule bundles.", valueName: "PATH"))
    var keyFile: String?

    func validate() throws {
        try StateLocation.validatePaths(keyFile: keyFile)
        if paths.isEmpty { throw ValidationError("Name at least one test file or directory (for example: symphony test rules).") }
    }

    func run() throws {
        try accessOptions.require(.validateRules, with: try accessOptions.accessGuard())
        var problems = Diagnostics()
        let files = SourceFiles.testFiles(in: paths, into: &problems)
        var ruleSets: [[String]: RuleSet?] = [:]
        var reports: [(path: String, results: [RuleTestResult])] = []
        let stdout = OutputLines()
        for file in files {
            var diagnostics = Diagnostics()
            guard let testFile = RuleTestFile.read(path: file, into: &diagnostics) else {
                problems.append(contentsOf: diagnostics)
                continue
            }
            let rulePaths = rules.isEmpty ? testFile.rulePaths : rules
            if ruleSets[rulePaths] == nil {
                let (documents, readProblems) = RuleDocuments.read(rulePaths, keyFile: keyFile)
                let (loaded, ruleDiagnostics) = RuleSetLoader.load(documents: documents)
                problems.append(contentsOf: readProblems)
                var errors = Diagnostics()
                for diagnostic in ruleDiagnostics.errors { errors.error(at: diagnostic.location, diagnostic.message) }
                problems.append(contentsOf: errors)  // a rule set's warnings are `validate`'s to show
                ruleSets[rulePaths] = readProblems.hasErrors ? .some(nil) : .some(loaded)
            }
            guard let ruleSet = ruleSets[rulePaths] ?? nil else { continue }
            var cases = testFile.cases(ruleSet: ruleSet, into: &diagnostics)
            problems.append(contentsOf: diagnostics)
            if let filter { cases = cases.filter { $0.name.contains(filter) } }
            let runner = RuleTestRunner(ruleSet: ruleSet)
            reports.append((file, cases.map(runner.run)))
        }
        report(problems.sorted)
        let passed = reports.reduce(0) { $0 + $1.results.filter(\.passed).count }
        let failed = reports.reduce(0) { $0 + $1.results.count } - passed
        switch format {
        case .junit:
            stdout.write(String(JUnitReport.xml(reports).dropLast()))
        case .text:
            for (path, results) in reports where !results.isEmpty {
                stdout.write(path)
                for result in results {
                    stdout.write("  \(result.passed ? "PASS" : "FAIL")  \(result.name)")
                    for failure in result.failures {
                        for line in failure.split(separator: "\n", omittingEmptySubsequences: false) { stdout.write("        " + line) }
                    }
                    if !result.passed || verbose {
                        stdout.write("        actual:" + (result.observations.isEmpty ? " nothing fired" : ""))
                        for line in result.actualLines() { stdout.write("          " + line) }
                    }
                }
            }
            stdout.write("\(passed) passed, \(failed) failed" + (problems.hasErrors ? "; the files above have errors" : ""))
        }
        stdout.flush()
        if failed > 0 || problems.hasErrors || passed == 0 && failed == 0 {
            if passed == 0 && failed == 0 && !problems.hasErrors { printError("symphony: no tests ran" + (filter.map { " (none matches --filter '\($0)')" } ?? "")) }
            throw ExitCode(1)
        }
    }
}

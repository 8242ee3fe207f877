/// Rule test results as JUnit XML, the format CI systems (GitLab, Jenkins, GitHub Actions
/// reporters) read: one `<testsuite>` per test file, one `<testcase>` per test, a `<failure>`
/// with the report text for each failed one.
public enum JUnitReport {
    /// The XML document for `files` (each test file's path and its results).
    public static func xml(_ files: [(path: String, results: [RuleTestResult])]) -> String {
        let total = files.reduce(0) { $0 + $1.results.count }
        let failed = files.reduce(0) { $0 + $1.results.filter { !$0.passed }.count }
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml += #"<testsuites name="symphony test" tests="\#(total)" failures="\#(failed)">"# + "\n"
        for (path, results) in files {
            let failures = results.filter { !$0.passed }.count
            xml += #"  <testsuite name="\#(escape(path))" tests="\#(results.count)" failures="\#(failures)">"# + "\n"
            for result in results {
                xml += #"    <testcase name="\#(escape(result.name))" classname="\#(escape(path))""#
                guard !result.passed else {
                    xml += "/>\n"
                    continue
                }
                let details = (result.failures + ["actual:"] + result.actualLines().map { "  " + $0 }).joined(separator: "\n")
                xml += ">\n"
                xml += #"      <failure message="\#(escape(result.failures.first?.split(separator: "\n").first.map(String.init) ?? ""))">"#
                xml += escape(details) + "</failure>\n"
                xml += "    </testcase>\n"
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    /// `text` with XML's special characters escaped, and characters XML 1.0 cannot hold dropped.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            case "\n", "\t", "\r": escaped.unicodeScalars.append(scalar)
            default:
                if scalar.value >= 0x20 && scalar.value != 0xFFFE && scalar.value != 0xFFFF { escaped.unicodeScalars.append(scalar) }
            }
        }
        return escaped
    }
}

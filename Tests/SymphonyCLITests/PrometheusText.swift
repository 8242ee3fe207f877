import Foundation

/// A scrape in the Prometheus text exposition format (version 0.0.4), parsed strictly enough
/// to catch what a Prometheus server would refuse: `# HELP name text`, `# TYPE name type`
/// (once per family, before its samples), other `#` comments, blank lines, and samples
/// `name{label="value",…} value [timestamp]` whose names and labels are well formed.
struct PrometheusText {
    /// One sample line.
    struct Sample: Equatable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    /// A line that is not valid exposition text, with its 1-based number.
    struct Problem: Error, CustomStringConvertible, Equatable {
        let line: Int
        let message: String
        var description: String { "line \(line): \(message)" }
    }

    static let knownTypes: Set<String> = ["counter", "gauge", "histogram", "summary", "untyped"]

    /// The declared type of each family, by name.
    private(set) var types: [String: String] = [:]
    /// The samples, in order.
    private(set) var samples: [Sample] = []

    /// Parses `text`; throws the first problem.
    init(_ text: String) throws(Problem) {
        guard text.isEmpty || text.hasSuffix("\n") else {
            throw Problem(line: text.split(separator: "\n", omittingEmptySubsequences: false).count, message: "the last line does not end with a line feed")
        }
        var helped: Set<String> = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            let number = index + 1
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
                guard words.count >= 3, words[0] == "#", words[1] == "HELP" || words[1] == "TYPE" else { continue }  // a comment
                let name = String(words[2])
                guard Self.isMetricName(name) else { throw Problem(line: number, message: "'\(name)' is not a valid metric name") }
                if words[1] == "HELP" {
                    guard helped.insert(name).inserted else { throw Problem(line: number, message: "a second HELP for \(name)") }
                } else {
                    guard words.count == 4, Self.knownTypes.contains(String(words[3])) else {
                        throw Problem(line: number, message: "TYPE \(name) needs one of \(Self.knownTypes.sorted().joined(separator: ", "))")
                    }
                    guard types[name] == nil else { throw Problem(line: number, message: "a second TYPE for \(name)") }
                    guard !samples.contains(where: { Self.family(of: $0.name, among: [name: String(words[3])]) == name }) else {
                        throw Problem(line: number, message: "the TYPE of \(name) comes after its samples")
                    }
                    types[name] = String(words[3])
                }
                continue
            }
            samples.append(try Self.sample(Substring(line), line: number))
        }
    }

    /// The family a sample belongs to: its own name, or for a histogram or summary the name
    /// without `_bucket`, `_sum` or `_count`; nil when no TYPE covers it.
    static func family(of sample: String, among types: [String: String]) -> String? {
        if types[sample] != nil { return sample }
        for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if let type = types[base], type == "histogram" || (type == "summary" && suffix != "_bucket") { return base }
        }
        return nil
    }

    /// The family of each sample, by this scrape's TYPE lines.
    func family(of sample: Sample) -> String? { Self.family(of: sample.name, among: types) }

    private static func sample(_ line: Substring, line number: Int) throws(Problem) -> Sample {
        var rest = line[...]
        let name = String(rest.prefix { $0 != "{" && $0 != " " })
        guard isMetricName(name) else { throw Problem(line: number, message: "'\(name)' is not a valid metric name") }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = String(rest.prefix { $0 != "=" })
                guard isLabelName(label), !label.hasPrefix("__") else { throw Problem(line: number, message: "'\(label)' is not a valid label name") }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { throw Problem(line: number, message: "label \(label) needs =\"value\"") }
                rest = rest.dropFirst(2)
                var value = ""
                while true {
                    guard let character = rest.first else { throw Problem(line: number, message: "the value of label \(label) is not closed") }
                    rest = rest.dropFirst()
                    if character == "\"" { break }
                    if character == "\\" {
                        switch rest.first {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: throw Problem(line: number, message: "a bad escape in the value of label \(label)")
                        }
                        rest = rest.dropFirst()
                    } else {
                        value.append(character)
                    }
                }
                guard labels.updateValue(value, forKey: label) == nil else { throw Problem(line: number, message: "label \(label) is given twice") }
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" {
                    throw Problem(line: number, message: "labels are separated by ',' and closed by '}'")
                }
            }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ", omittingEmptySubsequences: false)
        guard rest.first == " ", fields.count == 2 || fields.count == 3, fields[0].isEmpty else {
            throw Problem(line: number, message: "a sample is 'name{labels} value [timestamp]' with single spaces")
        }
        guard let value = sampleValue(fields[1]) else { throw Problem(line: number, message: "'\(fields[1])' is not a sample value") }
        if fields.count == 3, Int64(fields[2]) == nil { throw Problem(line: number, message: "'\(fields[2])' is not a millisecond timestamp") }
        return Sample(name: name, labels: labels, value: value)
    }

    private static func sampleValue(_ text: Substring) -> Double? {
        switch text {
        case "NaN": .nan
        case "+Inf": .infinity
        case "-Inf": -.infinity
        default: text.allSatisfy { "0123456789+-.eE".contains($0) } ? Double(text) : nil
        }
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || first == "_" || first == ":" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":") }
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`
    static func isLabelName(_ name: String) -> Bool {
        isMetricName(name) && !name.contains(":")
    }
}

/// Splits CSV text (RFC 4180) into records, each with the line it starts on.
///
/// Fields are separated by `,` and records by LF or CRLF. A field may be quoted with `"`; inside
/// quotes `""` is a quote, and commas and line breaks are part of the field. Blank lines are
/// skipped. Malformed records are reported with their line instead of being guessed at.
struct CSVRecords {
    /// One record: its fields and the 1-based line it starts on.
    struct Record {
        var fields: [String]
        var line: Int
    }

    /// A record that could not be read, and why.
    struct Problem: Error {
        var line: Int
        var column: Int
        var message: String
    }

    /// The records of `text`, and the problems found (a malformed record is left out).
    static func parse(_ text: String) -> (records: [Record], problems: [Problem]) {
        var records: [Record] = []
        var problems: [Problem] = []
        let scalars = Array(text.unicodeScalars)
        var index = 0
        var line = 1
        var column = 1
        func advance() {
            if scalars[index] == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
            index += 1
        }
        while index < scalars.count {
            let startLine = line
            var fields: [String] = []
            var field = String.UnicodeScalarView()
            var problem: Problem?
            var endOfRecord = false
            var fieldStart = true
            while index < scalars.count && !endOfRecord {
                let scalar = scalars[index]
                if fieldStart && scalar == "\"" {
                    // A quoted field: up to the closing quote, then a separator or the end of the record.
                    let quoteLine = line
                    let quoteColumn = column
                    advance()
                    var closed = false
                    while index < scalars.count {
                        if scalars[index] == "\"" {
                            if index + 1 < scalars.count && scalars[index + 1] == "\"" {
                                field.append("\"")
                                advance()
                                advance()
                                continue
                            }
                            advance()
                            closed = true
                            break
                        }
                        if scalars[index] == "\r" && index + 1 < scalars.count && scalars[index + 1] == "\n" { advance() }
                        field.append(scalars[index])
                        advance()
                    }
                    if !closed {
                        problem = Problem(line: quoteLine, column: quoteColumn, message: "the quoted field that starts here is never closed")
                        break
                    }
                    fieldStart = false
                    if index < scalars.count, scalars[index] != ",", scalars[index] != "\n", scalars[index] != "\r" {
                        problem = Problem(
                            line: line, column: column,
                            message: "unexpected character after a closing quote; a quote inside a quoted field is written \"\"")
                        break
                    }
                    continue
                }
                switch scalar {
                case ",":
                    fields.append(String(field))
                    field = String.UnicodeScalarView()
                    fieldStart = true
                    advance()
                case "\n":
                    endOfRecord = true
                    advance()
                case "\r" where index + 1 < scalars.count && scalars[index + 1] == "\n":
                    advance()
                case "\"":
                    problem = Problem(
                        line: line, column: column,
                        message: "a quote inside an unquoted field; quote the whole field and write the quote as \"\"")
                default:
                    field.append(scalar)
                    fieldStart = false
                    advance()
                }
                if problem != nil { break }
            }
            if let problem {
                problems.append(problem)
                // Skip the rest of the line the problem is on, and go on with the next record.
                while index < scalars.count && scalars[index] != "\n" { advance() }
                if index < scalars.count { advance() }
                continue
            }
            fields.append(String(field))
            if fields.count == 1 && fields[0].unicodeScalars.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
            records.append(Record(fields: fields, line: startLine))
        }
        return (records, problems)
    }
}

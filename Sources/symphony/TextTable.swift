import Foundation
import Glibc
import SymphonyPipeline

/// Rows as aligned text columns under a header, fitted to the terminal: when the table is wider
/// than the terminal, the widest of the free-text columns is clipped (with `…`) until it fits,
/// then the next widest, down to 10 characters each (the other columns are never clipped, so a
/// very narrow terminal still gets wider lines). Cells are shown through `displayText`.
struct TextTable {
    let columns: [String]
    let rows: [[String]]
    /// Columns that may be clipped (free text: messages, errors, details), by index.
    let clippable: Set<Int>

    /// The width to fit: `COLUMNS` when set, else the terminal's width when standard output is
    /// one; nil (no limit) when output goes to a pipe or a file, so `grep` sees whole lines.
    static var terminalWidth: Int? {
        if let text = ProcessInfo.processInfo.environment["COLUMNS"], let columns = Int(text) { return min(max(columns, 20), 10_000) }
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// The header line and one line per row.
    func lines(width: Int? = TextTable.terminalWidth) -> [String] {
        let cells = rows.map { row in row.map { displayText($0) } }
        var widths = columns.map(\.count)
        for row in cells { for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) } }
        if let width {
            var total = widths.reduce(0, +) + 2 * max(0, widths.count - 1)
            while total > width {
                guard let widest = clippable.filter({ widths[$0] > max(10, columns[$0].count) }).max(by: { widths[$0] < widths[$1] }) else { break }
                let cut = min(total - width, widths[widest] - max(10, columns[widest].count))
                widths[widest] -= cut
                total -= cut
            }
        }
        func line(_ values: [String]) -> String {
            values.enumerated().map { index, value in
                let width = widths[index]
                let clipped = value.count > width ? String(value.prefix(max(1, width - 1))) + "…" : value
                return index == values.count - 1 ? clipped : clipped + String(repeating: " ", count: max(0, width - clipped.count))
            }.joined(separator: "  ")
        }
        return [line(columns)] + cells.map(line)
    }
}

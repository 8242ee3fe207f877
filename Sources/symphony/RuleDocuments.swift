import Foundation
import SymphonyCrypto
import SymphonyDiagnostics
import SymphonyRules

/// The YAML documents of a rule set given on the command line: files, directories, and sealed bundles (opened with the key).
enum RuleDocuments {
    /// Reads every document; problems (unreadable files, invalid UTF-8, bundles that do not open) become diagnostics.
    static func read(_ paths: [String], keyFile: String?) -> (documents: [(file: String, text: String)], diagnostics: Diagnostics) {
        var diagnostics = Diagnostics()
        var documents: [(String, String)] = []
        var sealer: EnvelopeSealer?
        // In the order given (rule-set order breaks salience ties and decides what `stop` skips):
        // each path is a bundle, or plain files and directories (a run of them expanded together,
        // so a file reached twice is still read once).
        var plain: [String] = []
        func readPlain() {
            for file in SourceFiles.yamlFiles(in: plain, into: &diagnostics) {
                appendText(of: file, contents: FileManager.default.contents(atPath: file).map { Array($0) }, to: &documents, into: &diagnostics)
            }
            plain.removeAll()
        }
        for path in paths {
            guard isBundle(path) else {
                plain.append(path)
                continue
            }
            readPlain()
            let start = SourceLocation(file: path, line: 1, column: 1)
            do {
                if sealer == nil {
                    guard let key = try StateLocation.loadKey(keyFile, createIfMissing: false) else {
                        diagnostics.error(at: start, "a sealed bundle needs the key file (./.symphony/key, --key-file or $SYMPHONY_KEY_FILE)")
                        continue
                    }
                    sealer = EnvelopeSealer(key: key)
                }
                let bytes = Array(FileManager.default.contents(atPath: path) ?? Data())
                for (file, contents) in try RuleBundle.open(bytes, with: sealer!) {
                    appendText(of: "\(path):\(file)", contents: contents, to: &documents, into: &diagnostics)
                }
            } catch let error as CryptoError {
                diagnostics.error(at: start, error.message)
            } catch let error as BundleError {
                diagnostics.error(at: start, error.message)
            } catch {
                diagnostics.error(at: start, "\(error)")
            }
        }
        readPlain()
        return (documents, diagnostics)
    }

    /// True for a file that starts with the bundle magic.
    static func isBundle(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: RuleBundle.magic.count)) ?? Data()
        return RuleBundle.isBundle(Array(head))
    }

    private static func appendText(of file: String, contents: [UInt8]?, to documents: inout [(String, String)], into diagnostics: inout Diagnostics) {
        if let text = YAMLSource.text(of: contents, file: file, into: &diagnostics) { documents.append((file, text)) }
    }
}

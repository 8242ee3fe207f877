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
        for file in SourceFiles.yamlFiles(in: paths.filter { !isBundle($0) }, into: &diagnostics) {
            appendText(of: file, contents: FileManager.default.contents(atPath: file).map { Array($0) }, to: &documents, into: &diagnostics)
        }
        for bundle in paths.filter(isBundle) {
            let start = SourceLocation(file: bundle, line: 1, column: 1)
            do {
                if sealer == nil {
                    guard let key = try StateLocation.loadKey(keyFile, createIfMissing: false) else {
                        diagnostics.error(at: start, "a sealed bundle needs the key file (./.symphony/key, --key-file or $SYMPHONY_KEY_FILE)")
                        continue
                    }
                    sealer = EnvelopeSealer(key: key)
                }
                let bytes = Array(FileManager.default.contents(atPath: bundle) ?? Data())
                for (path, contents) in try RuleBundle.open(bytes, with: sealer!) {
                    appendText(of: "\(bundle):\(path)", contents: contents, to: &documents, into: &diagnostics)
                }
            } catch let error as CryptoError {
                diagnostics.error(at: start, error.message)
            } catch let error as BundleError {
                diagnostics.error(at: start, error.message)
            } catch {
                diagnostics.error(at: start, "\(error)")
            }
        }
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
        let start = SourceLocation(file: file, line: 1, column: 1)
        guard let contents else {
            diagnostics.error(at: start, "cannot read the file")
            return
        }
        guard contents.count <= YAMLSource.maximumFileBytes else {
            diagnostics.error(at: start, "the file is larger than \(YAMLSource.maximumFileBytes >> 20) MiB")
            return
        }
        guard let text = String(validating: contents, as: UTF8.self) else {
            diagnostics.error(at: start, "the file is not valid UTF-8")
            return
        }
        documents.append((file, text))
    }
}

import Foundation

/// Finding the YAML files a rule set is made of.
public enum SourceFiles {
    /// The YAML files named by `paths`: files as given, directories expanded (recursively) to their
    /// `.yaml` and `.yml` files in sorted order. A path that does not exist is an error.
    public static func yamlFiles(in paths: [String], into diagnostics: inout Diagnostics) -> [String] {
        var files: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                diagnostics.error(at: nil, "'\(path)' does not exist")
                continue
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            let found = (manager.enumerator(atPath: path)?.compactMap { $0 as? String } ?? [])
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                .sorted()
                .map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
            if found.isEmpty { diagnostics.error(at: nil, "directory '\(path)' holds no .yaml or .yml files") }
            files += found
        }
        return files
    }
}

import Foundation
import Glibc

/// Finding the YAML files a rule set is made of.
public enum SourceFiles {
    /// True for a rule test file (`NAME.test.yaml` or `NAME.test.yml`): it lives beside the rules
    /// it tests, and a directory of rules does not count it as a rule file.
    public static func isRuleTest(_ path: String) -> Bool {
        path.hasSuffix(".test.yaml") || path.hasSuffix(".test.yml")
    }

    /// The rule test files named by `paths`: files as given, directories expanded (recursively)
    /// to their `*.test.yaml` and `*.test.yml` files in sorted order.
    public static func testFiles(in paths: [String], into diagnostics: inout Diagnostics) -> [String] {
        yamlFiles(in: paths, tests: true, into: &diagnostics)
    }

    /// The YAML files named by `paths`: files as given, directories expanded (recursively) to their
    /// `.yaml` and `.yml` files in sorted order — rule tests (`isRuleTest`) left out. A path that
    /// does not exist is an error.
    public static func yamlFiles(in paths: [String], into diagnostics: inout Diagnostics) -> [String] {
        yamlFiles(in: paths, tests: false, into: &diagnostics)
    }

    private static func yamlFiles(in paths: [String], tests: Bool, into diagnostics: inout Diagnostics) -> [String] {
        var files: [String] = []
        // A file reached twice (named, and inside a named directory) is read once.
        var seen: Set<String> = []
        func add(_ file: String) {
            if seen.insert(canonical(file)).inserted { files.append(file) }
        }
        let manager = FileManager.default
        for path in paths {
            var status = stat()
            guard stat(path, &status) == 0 else {
                let reason = errno
                diagnostics.error(at: nil, reason == ENOENT ? "'\(path)' does not exist" : "cannot read '\(path)': \(String(cString: strerror(reason)))")
                continue
            }
            guard status.st_mode & S_IFMT == S_IFDIR else {
                add(path)
                continue
            }
            guard access(path, R_OK | X_OK) == 0 else {
                diagnostics.error(at: nil, "cannot read directory '\(path)': \(String(cString: strerror(errno)))")
                continue
            }
            let found = (manager.enumerator(atPath: path)?.compactMap { $0 as? String } ?? [])
                .filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && isRuleTest($0) == tests }
                .sorted()
                .map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
            if found.isEmpty {
                diagnostics.error(at: nil, tests ? "directory '\(path)' holds no rule tests (*.test.yaml)" : "directory '\(path)' holds no .yaml or .yml files")
            }
            found.forEach(add)
        }
        return files
    }

    /// The file's real path (symbolic links and `.`/`..` resolved), or the path itself.
    private static func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

import SymphonyPipeline
import ArgumentParser
import SymphonyCrypto

/// `symphony keygen`: make an AES-256 key file.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make a new AES-256 key file (32 bytes from the OS CSPRNG, mode 0600).",
        discussion: """
            Writes to -o PATH, else $SYMPHONY_KEY_FILE, else ./.symphony/key. An existing file is never \
            overwritten. Prints the new key's id (never the key).

            Exit codes: 0 written; 1 the file exists or cannot be written; 64 usage error.
            """)

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the key.", valueName: "PATH"))
    var output: String?

    func validate() throws {
        if let output, output.isEmpty || output.hasSuffix("/") {
            throw ValidationError("-o names the key file to write, not '\(output)'.")
        }
    }

    func run() throws {
        let path = StateLocation.keyFile(output).path
        do {
            try StateLocation.ensureDirectory(for: path)
            let key = try EncryptionKey.generate()
            try KeyFile.write(key, to: path)
            print("wrote \(path) (key id \(key.idString))")
        } catch let error as CryptoError {
            printError("symphony: \(error.message)")
            throw ExitCode(1)
        }
    }
}

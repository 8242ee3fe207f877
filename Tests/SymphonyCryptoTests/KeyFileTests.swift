import Foundation
import SymphonyCrypto
import Testing

@Suite struct KeyFileTests {
    @Test("a written key file is 32 bytes, mode 0600, and reads back as the same key")
    func writeAndRead() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/symphony.key"
        let key = try EncryptionKey.generate()
        try KeyFile.write(key, to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect((attributes[.size] as? NSNumber)?.intValue == 32)
        #expect(try KeyFile.read(from: path).id == key.id)
    }

    @Test("generated keys differ")
    func generatedKeysDiffer() throws {
        #expect(try EncryptionKey.generate().id != EncryptionKey.generate().id)
    }

    @Test("a key file group or others may access is refused with a fix", arguments: [0o640, 0o604, 0o644, 0o620, 0o601])
    func looseModeRefused(mode: Int) throws {
        let path = try makeTemporaryDirectory() + "/loose.key"
        try KeyFile.write(try EncryptionKey.generate(), to: path)
        #expect(chmod(path, mode_t(mode)) == 0)
        let error = #expect(throws: CryptoError.self) { try KeyFile.read(from: path) }
        #expect(error?.code == .keyFileInsecure)
        #expect(
            error?.message
                == "Key file '\(path)' is accessible by group or others (mode \(String(mode, radix: 8))); run 'chmod 600 \(path)'.")
    }

    @Test("a key file of the wrong size is refused")
    func wrongSizeRefused() throws {
        let path = try makeTemporaryDirectory() + "/short.key"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 1, count: 31), attributes: [.posixPermissions: 0o600]))
        let error = #expect(throws: CryptoError.self) { try KeyFile.read(from: path) }
        #expect(error?.code == .keyFileMalformed)
        #expect(error?.message == "Key file '\(path)' must hold exactly 32 bytes, not 31.")
    }

    @Test("an existing key file is never overwritten")
    func noOverwrite() throws {
        let path = try makeTemporaryDirectory() + "/existing.key"
        let first = try EncryptionKey.generate()
        try KeyFile.write(first, to: path)
        let error = #expect(throws: CryptoError.self) { try KeyFile.write(try EncryptionKey.generate(), to: path) }
        #expect(error?.code == .keyFileExists)
        #expect(try KeyFile.read(from: path).id == first.id)
    }

    @Test("a FIFO or a directory as the key file is refused at once (opening a FIFO must not wait for a writer)")
    func notARegularFile() throws {
        let directory = try makeTemporaryDirectory()
        let fifo = directory + "/fifo.key"
        #expect(mkfifo(fifo, 0o600) == 0)
        for path in [fifo, directory] {
            let error = #expect(throws: CryptoError.self) { try KeyFile.read(from: path) }
            #expect(error?.code == .keyFileUnreadable)
            #expect(error?.message == "Key file '\(path)' is not a regular file.")
        }
    }

    @Test("a missing key file gives a readable error")
    func missingFile() throws {
        let error = #expect(throws: CryptoError.self) { try KeyFile.read(from: "/nonexistent/symphony.key") }
        #expect(error?.code == .keyFileUnreadable)
        #expect(error?.message == "Cannot open key file '/nonexistent/symphony.key': No such file or directory.")
    }
}

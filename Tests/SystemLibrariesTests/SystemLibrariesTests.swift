import CPCRE2
import COpenSSL
import CSQLite
import Testing

/// The three system-library shims import and link.
@Suite struct SystemLibrariesTests {
    @Test("PCRE2 (8-bit) compiles and matches a UTF pattern through the shim")
    func pcre2() throws {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let pattern = Array("caf\\w+".utf8)
        let code = pattern.withUnsafeBufferPointer {
            pcre2_compile_8($0.baseAddress, $0.count, UInt32(PCRE2_UTF | PCRE2_UCP), &errorCode, &errorOffset, nil)
        }
        let compiled = try #require(code)
        defer { pcre2_code_free_8(compiled) }
        let matchData = pcre2_match_data_create_from_pattern_8(compiled, nil)
        defer { pcre2_match_data_free_8(matchData) }
        let subject = Array("un café".utf8)
        let result = subject.withUnsafeBufferPointer {
            pcre2_match_8(compiled, $0.baseAddress, $0.count, 0, 0, matchData, nil)
        }
        #expect(result == 1)
        #expect(UInt(bitPattern: cpcre2_zero_terminated()) == UInt.max)
    }

    @Test("OpenSSL libcrypto is version 3")
    func openssl() {
        #expect(OpenSSL_version_num() >> 28 == 3)
    }

    @Test("SQLite opens an in-memory database")
    func sqlite() {
        var db: OpaquePointer?
        #expect(sqlite3_open(":memory:", &db) == SQLITE_OK)
        #expect(sqlite3_close(db) == SQLITE_OK)
        #expect(sqlite3_libversion_number() >= 3_031_000)
    }
}

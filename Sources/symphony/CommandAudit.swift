import Foundation
import Glibc
import SymphonyStore
import SymphonyRecords

/// Appends a record about a command to the audit trail of an existing history database (when the key can be read).
///
/// Commands that only read (`history`, `intents`, `audit`) never create a database for this;
/// `validate` records nothing, since a dry run writes nothing.
enum CommandAudit {
    static func record(_ record: AuditRecord, database: String, keyFile: String?) {
        // Only a database already at this build's schema: migrating is `symphony run`'s job (it is given every key).
        // A database this user may read but not write (or whose directory cannot hold the
        // write-ahead log) gets no record: appending would only fail, retry and log SQL errors.
        let directory = StateLocation.parentDirectory(of: database)
        guard FileManager.default.fileExists(atPath: database), access(database, W_OK) == 0, access(directory.isEmpty ? "." : directory, W_OK) == 0,
            HistoryStore.isCurrentSchema(path: database),
            let key = try? StateLocation.loadKey(keyFile, createIfMissing: false),
            let store = try? HistoryStore(path: database, key: key)
        else { return }
        store.audit(record)
        try? store.close()
    }
}

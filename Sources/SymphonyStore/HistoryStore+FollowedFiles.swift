import SymphonyRecords

/// How far followed files were read (`followed_files`), written with the events read from them.
extension HistoryStore {
    /// Where an earlier run stopped reading the followed file `path`.
    public func filePosition(for path: String) throws -> FilePosition? {
        let database = try SQLiteDatabase(path: self.path, readOnly: true, create: false)
        return try database.prepare("SELECT device, inode, offset FROM followed_files WHERE path = ?").rows([.text(path)]) { row in
            FilePosition(path: path, device: UInt64(bitPattern: row.int(0)), inode: UInt64(bitPattern: row.int(1)), offset: row.int(2))
        }.first
    }
}

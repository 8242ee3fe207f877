/// How far a followed file was read: its identity (device and inode, so a rotated file is told
/// from a new one at the same path) and the byte offset just past the last line taken.
public struct FilePosition: Sendable, Hashable {
    /// The path as followed.
    public let path: String
    /// The file's device number.
    public let device: UInt64
    /// The file's inode number.
    public let inode: UInt64
    /// Bytes read, up to the end of the last whole line taken.
    public let offset: Int64

    /// A position.
    public init(path: String, device: UInt64, inode: UInt64, offset: Int64) {
        self.path = path
        self.device = device
        self.inode = inode
        self.offset = offset
    }
}

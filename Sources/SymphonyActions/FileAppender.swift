import Glibc

/// Appends whole lines to files, safely against other threads and processes.
///
/// Each append opens the file, takes an exclusive `flock`, writes the line with O_APPEND in one
/// write (looping on short writes while still holding the lock), `fdatasync`s and closes: lines
/// from concurrent writers that also use flock never interleave, and a line is durable when
/// `append` returns. A write that fails part-way is cut back off, so no torn line stays behind.
public final class FileAppender: Sendable {
    /// An appender; it holds no state, so one can serve every thread.
    public init() {}

    /// Appends `line` plus "\n" (the caller guarantees `line` has no newline; if it does, throw) with
    /// O_APPEND, creating the file with `mode` (default 0o600) when missing (parent directory must
    /// exist: clear error otherwise), in ONE write under an exclusive flock (loop on short writes
    /// while holding the lock), then fdatasync before returning: done only when durable.
    ///
    /// A new file gets exactly `mode & 0o777` whatever the umask, and its directory is synced too.
    public func append(line: String, to path: String, mode: mode_t = 0o600) throws(FileAppendError) {
        let shownPath = Self.quoted(path)
        guard !line.utf8.contains(UInt8(ascii: "\n")) else {
            throw FileAppendError(message: "cannot append to \(shownPath): the line contains a newline")
        }
        guard !path.isEmpty, !path.utf8.contains(0) else {
            throw FileAppendError(message: "cannot append to \(shownPath): the path is empty or contains a NUL byte")
        }
        let (descriptor, created) = try open(path, mode: mode, shownPath: shownPath)
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw failure("cannot read the status of", path: shownPath, error: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw FileAppendError(message: "cannot append to \(shownPath): not a regular file")
        }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw failure("cannot lock", path: shownPath, error: errno) }
        }
        var sizeBefore = stat()
        guard fstat(descriptor, &sizeBefore) == 0 else { throw failure("cannot read the size of", path: shownPath, error: errno) }

        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if result > 0 {
                written += result
            } else if result < 0 && errno == EINTR {
                continue
            } else {
                let error = result < 0 ? errno : EIO
                if written > 0 { _ = ftruncate(descriptor, sizeBefore.st_size) }  // no torn line left behind
                throw failure("cannot write to", path: shownPath, error: error)
            }
        }
        guard fdatasync(descriptor) == 0 else { throw failure("cannot flush", path: shownPath, error: errno) }
        if created { try syncDirectory(of: path, shownPath: shownPath) }
    }

    /// Opens `path` for appending, creating it with exactly `mode` when missing; returns whether it was created.
    private func open(_ path: String, mode: mode_t, shownPath: String) throws(FileAppendError) -> (Int32, Bool) {
        // O_NONBLOCK: opening a FIFO without a reader fails (then is refused as not a regular file) instead of hanging.
        let flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK
        // Twice at most: the file may appear or vanish between the two opens.
        for _ in 0..<2 {
            let created = Glibc.open(path, flags | O_CREAT | O_EXCL, mode & 0o777)
            if created >= 0 {
                // Exactly `mode`: O_CREAT applied the umask.
                guard fchmod(created, mode & 0o777) == 0 else {
                    let error = errno
                    close(created)
                    throw failure("cannot set the mode of", path: shownPath, error: error)
                }
                return (created, true)
            }
            guard errno == EEXIST else { throw failure("cannot append to", path: shownPath, error: errno) }
            let existing = Glibc.open(path, flags)
            if existing >= 0 { return (existing, false) }
            guard errno == ENOENT else { throw failure("cannot append to", path: shownPath, error: errno) }
        }
        throw failure("cannot append to", path: shownPath, error: ENOENT)
    }

    /// fsyncs the directory holding `path`, so a newly created file's name is durable too.
    private func syncDirectory(of path: String, shownPath: String) throws(FileAppendError) {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let descriptor = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("cannot open the directory of", path: shownPath, error: errno) }
        defer { close(descriptor) }
        // EINVAL: a file system whose directories cannot be synced; the line itself is durable.
        guard fsync(descriptor) == 0 || errno == EINVAL else {
            throw failure("cannot flush the directory of", path: shownPath, error: errno)
        }
    }

    private func failure(_ action: String, path: String, error: Int32) -> FileAppendError {
        let reason: String
        switch error {
        case ENOENT: reason = "its directory does not exist"
        case ENOTDIR: reason = "a component of its path is not a directory"
        case EACCES, EPERM: reason = "permission denied"
        case EISDIR: reason = "it is a directory"
        case ENOSPC: reason = "no space left on the device"
        case EDQUOT: reason = "disk quota exceeded"
        case EROFS: reason = "the file system is read-only"
        case EMFILE, ENFILE: reason = "too many open files"
        default: reason = String(cString: strerror(error))
        }
        return FileAppendError(message: "\(action) \(path): \(reason)")
    }

    /// `path` in single quotes, control characters shown as '?', at most 300 characters.
    private static func quoted(_ path: String) -> String {
        let printable = String(path.unicodeScalars.prefix(300).map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
        return "'\(printable)\(path.unicodeScalars.count > 300 ? "…" : "")'"
    }
}

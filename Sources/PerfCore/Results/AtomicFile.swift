import SystemPackage
import Glibc

/// Writes files so that readers see the old content or the new, never a torn mix:
/// a temporary file beside the target, fsync, rename, fsync of the directory.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String) throws(UserError) {
        let directory = FilePaths.directory(of: path)
        let temporary = FilePaths.join(directory, ".\(FilePaths.lastComponent(of: path)).tmp-\(getpid())")
        do {
            let fd = try FileDescriptor.open(
                FilePath(temporary), .writeOnly, options: [.create, .truncate],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
            try fd.closeAfter {
                _ = try fd.writeAll(bytes)
                try fsync(fd)
            }
            try rename(from: temporary, to: path)
            let directoryFD = try FileDescriptor.open(FilePath(directory), .readOnly)
            try directoryFD.closeAfter { try fsync(directoryFD) }
        } catch {
            throw UserError("cannot write \(path): \(error)", fix: "check that the results directory is writable")
        }
    }

    public static func write(_ text: String, to path: String) throws(UserError) {
        try write(Array(text.utf8), to: path)
    }

    private static func fsync(_ fd: FileDescriptor) throws {
        if Glibc.fsync(fd.rawValue) != 0 { throw Errno(rawValue: errno) }
    }

    private static func rename(from source: String, to target: String) throws {
        if Glibc.rename(source, target) != 0 { throw Errno(rawValue: errno) }
    }
}

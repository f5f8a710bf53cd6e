import Glibc
import SystemPackage

/// A pipe whose ends close on exec, so only the child they are handed to keeps them.
struct ClosingPipe {
    let readEnd: FileDescriptor
    let writeEnd: FileDescriptor

    init() throws {
        let ends = try FileDescriptor.pipe()
        for end in [ends.readEnd, ends.writeEnd] where fcntl(end.rawValue, F_SETFD, FD_CLOEXEC) != 0 {
            throw Errno(rawValue: errno)
        }
        readEnd = ends.readEnd
        writeEnd = ends.writeEnd
    }
}

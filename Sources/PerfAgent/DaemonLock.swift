import Glibc
import PerfCore
import SystemPackage

/// An exclusive `flock` on the root's `agent.lock`, held for the daemon's whole
/// life: one daemon per root. The kernel drops it when the process ends, however
/// it ends, so a crashed daemon never blocks the next one.
enum DaemonLock {
    /// Takes the lock for the rest of this process's life (its descriptor stays open);
    /// false when another process holds it.
    static func acquire(at path: String) throws(UserError) -> Bool {
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(
                FilePath(path), .readWrite, options: [.create, .closeOnExec], permissions: [.ownerReadWrite])
        } catch {
            throw UserError("cannot open \(path): \(error)", fix: "check that the agent root is writable")
        }
        guard flock(descriptor.rawValue, LOCK_EX | LOCK_NB) == 0 else {
            let cause = Errno(rawValue: errno)
            try? descriptor.close()
            if cause == .wouldBlock { return false }
            throw UserError("cannot lock \(path): \(cause)", fix: "put the agent root on a local file system")
        }
        return true
    }
}

import Foundation
import PerfCore
import Synchronization
import SystemPackage

/// `agent.log` of a node's round: what the agent did, one timestamped line each.
/// It sits beside the rank logs and reaches the controller the same way.
final class AgentJournal: Sendable {
    static let fileName = "agent.log"
    private let descriptor: Mutex<FileDescriptor?>

    init(directory: String) throws {
        let fd = try FileDescriptor.open(
            FilePath(FilePaths.join(directory, Self.fileName)), .writeOnly,
            options: [.create, .truncate, .append, .closeOnExec], permissions: [.ownerReadWrite, .groupRead, .otherRead])
        descriptor = Mutex(fd)
    }

    func note(_ text: String) {
        let line = Array("\(Timestamp.iso8601()) \(text)\n".utf8)
        descriptor.withLock { fd in _ = try? fd?.writeAll(line) }
    }

    func close() {
        descriptor.withLock { fd in
            try? fd?.close()
            fd = nil
        }
    }
}

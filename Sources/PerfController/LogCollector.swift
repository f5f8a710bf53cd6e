import PerfCore
import PerfWire
import SystemPackage

/// Writes the log chunks agents stream into the results tree, each at its
/// offset, so a chunk sent twice never doubles a line.
final class LogCollector {
    private let runDirectory: String
    private var open: [String: FileDescriptor] = [:]

    init(runDirectory: String) { self.runDirectory = runDirectory }

    /// Folder of a node's files for a round, relative to the run directory.
    static func nodeDirectory(_ key: RoundKey, node: NodePlan) -> String {
        "\(key.caseName)/round\(key.round)/\(node.directoryName)"
    }

    /// Writes `chunk` into the node's round folder.
    func write(_ chunk: LogChunk, node: NodePlan) throws(UserError) {
        guard Self.isPlainName(chunk.file) else {
            throw UserError(
                "agent sent a file name that is not a plain name: \(chunk.file)", at: "host \(node.hostName)",
                fix: "use a perf-agent of the same version as perfctl")
        }
        let path = FilePaths.join(
            FilePaths.join(runDirectory, Self.nodeDirectory(chunk.key, node: node)), chunk.file)
        do {
            let fd = try descriptor(for: path)
            _ = try chunk.data.withUnsafeBytes { try fd.write(toAbsoluteOffset: chunk.offset, $0) }
        } catch {
            throw UserError("cannot write \(path): \(error)", fix: "check free space and permissions of the results directory")
        }
    }

    /// Closes the files of a finished round.
    func closeAll() {
        for fd in open.values { try? fd.close() }
        open.removeAll()
    }

    private func descriptor(for path: String) throws -> FileDescriptor {
        if let fd = open[path] { return fd }
        try Directories.create(FilePaths.directory(of: path))
        let fd = try FileDescriptor.open(
            FilePath(path), .writeOnly, options: [.create, .closeOnExec],
            permissions: [.ownerReadWrite, .groupRead, .otherRead])
        open[path] = fd
        return fd
    }

    private static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }
}

import Foundation
import PerfCore
import PerfWire
import SystemPackage

/// Streams every file of a node's round directory to the controller as it grows,
/// in `LogChunk`s tagged with their offsets.
actor LogTailer {
    /// How often the directory is checked for new bytes.
    static let pollInterval = Duration.milliseconds(50)

    private let directory: String
    private let key: RoundKey
    private let send: @Sendable (AgentMessage) -> Void
    private var offsets: [String: Int64] = [:]
    private var descriptors: [String: FileDescriptor] = [:]
    private var stopped = false
    private var buffer = [UInt8](repeating: 0, count: WireProtocol.maximumChunkBytes)

    init(directory: String, key: RoundKey, send: @escaping @Sendable (AgentMessage) -> Void) {
        self.directory = directory
        self.key = key
        self.send = send
    }

    /// Sends new bytes every `pollInterval` until `finish()`.
    func follow() async {
        while !stopped {
            pollOnce()
            try? await Task.sleep(for: Self.pollInterval)
        }
    }

    /// Sends what is left, stops following, and returns every file's final size.
    func finish() -> [String: Int64] {
        pollOnce()
        stopped = true
        for descriptor in descriptors.values { try? descriptor.close() }
        descriptors.removeAll()
        return offsets
    }

    private func pollOnce() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names.sorted() where !name.hasPrefix(".") {
            drain(name)
        }
    }

    private func drain(_ name: String) {
        guard let descriptor = descriptor(for: name) else { return }
        var offset = offsets[name, default: 0]
        while true {
            let count = (try? buffer.withUnsafeMutableBytes {
                try descriptor.read(fromAbsoluteOffset: offset, into: $0)
            }) ?? 0
            if count == 0 { break }
            send(.logChunk(LogChunk(key: key, file: name, offset: offset, data: Data(buffer[0..<count]))))
            offset += Int64(count)
        }
        offsets[name] = offset
    }

    private func descriptor(for name: String) -> FileDescriptor? {
        if let open = descriptors[name] { return open }
        guard let fd = try? FileDescriptor.open(FilePath(FilePaths.join(directory, name)), .readOnly, options: .closeOnExec) else {
            return nil
        }
        descriptors[name] = fd
        return fd
    }
}

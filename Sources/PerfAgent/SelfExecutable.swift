import Glibc
import PerfCore

/// The running perf-agent's own executable.
enum SelfExecutable {
    /// Its path, read from /proc/self/exe. When the file was replaced since this process
    /// started, the path names the new file (the kernel's " (deleted)" mark is dropped).
    static var path: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        let path = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path.hasSuffix(" (deleted)") ? String(path.dropLast(" (deleted)".count)) : path
    }

    /// SHA-256 (hex) of the bytes this process runs, even when its file was replaced since.
    static func sha256() -> String {
        (try? FileDigest.sha256Hex(of: "/proc/self/exe")) ?? "unknown"
    }
}

import Foundation
import Glibc
import SystemPackage

/// Joins this process's stdin and stdout to a connected socket, the way
/// `docker system dial-stdio` does: whoever runs the process (an SSH exec
/// channel, a local parent) talks to the socket's server through its pipes.
public enum StreamBridge {
    /// Copies stdin to the socket and the socket to stdout, each on its own thread.
    /// At stdin's end the socket's sending side is shut down; the bridge ends when the
    /// socket reaches its end. Returns the exit status: 0, or 1 after a failure
    /// (described on stderr; stdout carries only the socket's bytes).
    public static func run(socket: FileDescriptor) -> Int32 {
        let upstream = Thread {
            if let failure = copy(from: .standardInput, to: socket) {
                report("stdin to the daemon: \(failure)")
            }
            shutdown(socket.rawValue, Int32(SHUT_WR))
        }
        upstream.name = "perf-agent-dial-stdin"
        upstream.start()
        if let failure = copy(from: socket, to: .standardOutput) {
            report("the daemon to stdout: \(failure)")
            return 1
        }
        return 0
    }

    /// Copies until `source` ends; returns what stopped it early, nil at end of stream.
    private static func copy(from source: FileDescriptor, to target: FileDescriptor) -> Errno? {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            do {
                let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
                if count == 0 { return nil }
                _ = try target.writeAll(buffer[0..<count])
            } catch let error as Errno {
                return error
            } catch {
                return .ioError
            }
        }
    }

    private static func report(_ text: String) {
        FileHandle.standardError.write(Data("perf-agent dial: \(text)\n".utf8))
    }
}

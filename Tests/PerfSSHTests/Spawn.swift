import Foundation

/// Starts programs with posix_spawn and waits with waitpid (no Foundation `Process`:
/// its pipes leak into concurrently spawned children, and its reaping is asynchronous).
struct Spawned {
    let pid: pid_t

    /// Starts `arguments` (PATH lookup) with stdin from /dev/null, stdout into `stdoutPath`
    /// (or /dev/null) and stderr into /dev/null. Descriptors of the test process are not inherited.
    static func start(_ arguments: [String], stdoutPath: String? = nil) throws -> Spawned {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        _ = closeFrom(&actions, 3)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        guard rc == 0 else { throw FixtureError("cannot start \(arguments[0]): \(String(cString: strerror(rc)))") }
        return Spawned(pid: pid)
    }

    /// Waits for the exit and returns the exit code (128 + signal when killed).
    @discardableResult
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    func isRunning() -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    func terminate() {
        kill(pid, SIGTERM)
        wait()
    }

    /// Runs to the end and returns stdout; throws on a non-zero exit.
    static func output(_ arguments: [String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spawn-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let code = try start(arguments, stdoutPath: path).wait()
        guard code == 0 else { throw FixtureError("\(arguments) exited with \(code)") }
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}

/// glibc 2.34+'s `posix_spawn_file_actions_addclosefrom_np`, which the Glibc module does not import.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func closeFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ lowest: Int32) -> Int32

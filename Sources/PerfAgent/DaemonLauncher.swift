import CAgentSystem
import Glibc
import PerfCore
import SystemPackage

/// Starts the daemon for `dial`, detached: `<own executable> serve --root R --idle-exit N`
/// in a session of its own, stdin from /dev/null, stdout and stderr appended to
/// `R/agent.log`, and no other descriptor inherited, so it never holds open the
/// SSH channel or the pipes of whoever ran `dial`.
enum DaemonLauncher {
    /// Spawns the daemon and returns its pid without waiting for it.
    static func launch(root: AgentRoot, idleExitSeconds: Int) throws(UserError) -> pid_t {
        let executable = SelfExecutable.path
        let arguments = [executable, "serve", "--root", root.path, "--idle-exit", String(idleExitSeconds)]
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        let setup = [
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0),
            posix_spawn_file_actions_addopen(&actions, 1, root.logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600),
            posix_spawn_file_actions_adddup2(&actions, 1, 2),
            perf_spawn_file_actions_addclosefrom(&actions, 3),
            posix_spawnattr_setflags(&attributes, perf_spawn_setsid_flag()),
        ]
        if let failed = setup.first(where: { $0 != 0 }) {
            throw UserError("cannot prepare to start the perf-agent daemon: \(Errno(rawValue: failed))")
        }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw UserError(
                "cannot start the perf-agent daemon \(executable): \(Errno(rawValue: result))",
                fix: "start it by hand with `\(executable) serve --root \(root.path)` and read what it says")
        }
        return pid
    }
}

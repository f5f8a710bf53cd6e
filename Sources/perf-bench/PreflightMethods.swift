import Foundation
import PerfCore

/// One way of reaching every host of the cluster once, as `perf-bench preflight` measures it.
///
/// The benchmark times `run` on a wall clock and charges it the CPU this process used meanwhile
/// (`getrusage(RUSAGE_SELF)` delta: an in-process method's work) plus the CPU of the children it
/// waited for (`getrusage(RUSAGE_CHILDREN)` delta: ssh, pdsh and pdsh's ssh processes). `run`
/// throws when some host did not answer; the benchmark then stops.
struct PreflightMethod: Sendable {
    /// Short name in the table (`pdsh`, `serial`, `perfctl`).
    var name: String
    /// What it runs, printed once at the start.
    var command: String
    /// Baselines are what the others are measured against; the first method is the reference of the
    /// ratios, and every method that is not a baseline must be no slower than it (median wall time).
    var isBaseline: Bool
    /// Programs it starts from PATH, checked before the first run (`pdsh`, `ssh`).
    var programs: [String] = []
    var run: @Sendable () async throws -> Void
}

/// The hosts of a cluster file and how OpenSSH reaches them: one user, identity, known_hosts and
/// port for all (what pdsh can pass to every ssh it starts).
struct PreflightTarget: Sendable {
    var clusterFile: String
    var addresses: [String]
    var user: String
    var port: Int
    var identity: String?
    var knownHosts: String?
    /// Pid files of the hosts' sshds when the cluster is a testbed (`<name>.sshd.pid` beside the
    /// cluster file, as scripts/testbed/cluster.sh writes them); nil otherwise.
    var sshdPidFiles: [String]?

    init(cluster: ClusterConfig) throws {
        let remote = cluster.hosts.filter { !$0.isLocal }
        guard !remote.isEmpty, remote.count == cluster.hosts.count else {
            throw BenchmarkError(
                "\(cluster.file): every host must be reached over SSH (no localhost): bring up a test cluster with "
                    + "scripts/testbed/cluster.sh up 32 DIR and pass --cluster DIR/cluster.yaml")
        }
        let settings = Set(remote.map { SettingsKey($0.ssh) })
        guard settings.count == 1, let ssh = remote.first?.ssh else {
            throw BenchmarkError("\(cluster.file): the hosts differ in SSH port, user, identity or known_hosts; pdsh passes one set to every host")
        }
        clusterFile = cluster.file
        addresses = remote.map(\.address)
        user = ssh.user ?? ProcessInfo.processInfo.environment["USER"] ?? "root"
        port = ssh.port
        identity = ssh.identity.map(FilePaths.expandingHome)
        knownHosts = ssh.knownHosts.map(FilePaths.expandingHome)
        for path in [identity, knownHosts].compactMap({ $0 }) where path.contains(where: \.isWhitespace) {
            throw BenchmarkError("\(path): pdsh splits PDSH_SSH_ARGS_APPEND at spaces; use a path without spaces")
        }
        let directory = cluster.directory
        let pidFiles = remote.map { FilePaths.join(directory, "\($0.name).sshd.pid") }
        sshdPidFiles = pidFiles.allSatisfy(FileManager.default.fileExists(atPath:)) ? pidFiles : nil
    }

    private struct SettingsKey: Hashable {
        var port: Int, user: String?, identity: String?, knownHosts: String?
        init(_ ssh: SSHSettings) {
            (port, user, identity, knownHosts) = (ssh.port, ssh.user, ssh.identity, ssh.knownHosts)
        }
    }

    /// Options for every ssh: the cluster's identity and known_hosts, strictly, no prompts, and no
    /// ~/.ssh/config (a ControlMaster there would share connections and skew the figures).
    var sshOptions: [String] {
        var options = ["-F", "/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"]
        if let knownHosts { options += ["-o", "UserKnownHostsFile=\(knownHosts)"] }
        if let identity { options += ["-o", "IdentitiesOnly=yes", "-i", identity] }
        if port != 22 { options += ["-p", String(port)] }
        return options
    }
}

/// The OpenSSH baselines of issue 3: pdsh with a fan-out, and one ssh after another.
enum OpenSSHBaselines {
    /// `pdsh -R ssh -S -f FANOUT -l USER -w A,B,… true`, with the ssh options in
    /// PDSH_SSH_ARGS_APPEND. pdsh runs `ssh -oConnectTimeout=10 <options> -2 -a -x [-l user] host true`;
    /// `-S` makes it exit with the largest exit status of its ssh processes, so 0 means every host ran
    /// `true` (ssh exits 255 when it cannot connect or log in).
    static func pdsh(_ target: PreflightTarget, fanOut: Int) -> PreflightMethod {
        let arguments = ["pdsh", "-R", "ssh", "-S", "-f", String(fanOut), "-l", target.user,
                         "-w", target.addresses.joined(separator: ","), "true"]
        var environment = ProcessInfo.processInfo.environment
        environment["PDSH_SSH_ARGS_APPEND"] = target.sshOptions.joined(separator: " ")
        environment["PDSH_RCMD_TYPE"] = nil
        environment["WCOLL"] = nil
        let pdshEnvironment = environment
        let environmentShown = "PDSH_SSH_ARGS_APPEND=\"\(environment["PDSH_SSH_ARGS_APPEND"]!)\""
        let shownHosts = target.addresses.count > 2
            ? "\(target.addresses[0]),…,\(target.addresses[target.addresses.count - 1])"
            : target.addresses.joined(separator: ",")
        let shown = (arguments.dropLast(2) + [shownHosts, "true"]).joined(separator: " ")
        return PreflightMethod(
            name: "pdsh", command: "\(environmentShown) \(shown)", isBaseline: true, programs: ["pdsh", "ssh"]
        ) {
            let result = try ChildProcess.run(arguments, environment: pdshEnvironment)
            guard result.exited(0) else {
                throw BenchmarkError("pdsh \(result.statusDescription); it printed:\n\(result.output)")
            }
            // `true` prints nothing; pdsh reports a host that failed as "pdsh@…: host: ssh exited …".
            if result.output.contains("pdsh@") {
                throw BenchmarkError("pdsh reported a failed host:\n\(result.output)")
            }
        }
    }

    /// `ssh <options> -a -x -l USER host true` for one host after another, with the same options pdsh
    /// gives its ssh processes.
    static func serial(_ target: PreflightTarget) -> PreflightMethod {
        let options = ["-oConnectTimeout=10"] + target.sshOptions + ["-a", "-x", "-l", target.user]
        let environment = ProcessInfo.processInfo.environment
        let shown = (["ssh"] + options + ["HOST", "true"]).joined(separator: " ")
        return PreflightMethod(
            name: "serial", command: "for HOST in hosts: \(shown)", isBaseline: true, programs: ["ssh"]
        ) {
            for address in target.addresses {
                let result = try ChildProcess.run(["ssh"] + options + [address, "true"], environment: environment)
                guard result.exited(0) else {
                    throw BenchmarkError("ssh \(address) true \(result.statusDescription); it printed:\n\(result.output)")
                }
            }
        }
    }
}

/// A child process run to its end with posix_spawnp (no Foundation run loop in the measurement):
/// stdin from /dev/null, stdout and stderr into one pipe.
enum ChildProcess {
    struct Result {
        /// Raw wait status.
        var status: Int32
        var output: String

        func exited(_ code: Int32) -> Bool { status & 0x7f == 0 && (status >> 8) & 0xff == code }

        var statusDescription: String {
            status & 0x7f == 0 ? "exited with status \((status >> 8) & 0xff)" : "was killed by signal \(status & 0x7f)"
        }
    }

    static func run(_ arguments: [String], environment: [String: String]) throws -> Result {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw BenchmarkError("pipe: \(String(cString: strerror(errno)))") }
        // Not inherited by other children; dup2 onto 1 and 2 clears the flag for this one.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, argv[0]!, &actions, nil, argv, envp)
        close(fds[1])
        guard spawned == 0 else {
            close(fds[0])
            throw BenchmarkError("cannot start \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fds[0], &buffer, buffer.count)
            if count > 0 {
                output += buffer[0..<count]
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        close(fds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw BenchmarkError("waitpid: \(String(cString: strerror(errno)))") }
        }
        return Result(status: status, output: String(decoding: output, as: UTF8.self))
    }
}

/// CPU time counters read before and after each run.
struct CPUCounters {
    /// This process (all its threads), seconds.
    var ownProcess: Double
    /// Children this process waited for, and their waited-for descendants, seconds.
    var children: Double
    /// Every CPU of the machine, busy time (all processes, other users' too), seconds.
    var machineBusy: Double

    static func now() -> CPUCounters {
        CPUCounters(
            ownProcess: usage(RUSAGE_SELF), children: usage(RUSAGE_CHILDREN), machineBusy: machineBusySeconds())
    }

    private static func usage(_ who: __rusage_who) -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(who.rawValue), &usage)
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    private static func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// user + nice + system + irq + softirq + steal of the `cpu` line of /proc/stat.
    static func machineBusySeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
        else { return .nan }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 8 else { return .nan }
        return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]) / ticksPerSecond
    }

    /// CPU of the testbed hosts' sshds: each listener's own time plus that of the connection
    /// processes it has reaped (utime + stime + cutime + cstime of /proc/PID/stat), summed.
    static func sshdSeconds(pidFiles: [String]) -> Double? {
        var ticks = 0.0
        for file in pidFiles {
            guard let pid = (try? String(contentsOfFile: file, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // Fields after "pid (comm) " start at field 3 (state); utime..cstime are fields 14-17.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 14 else { return nil }
            ticks += fields[11...14].compactMap { Double($0) }.reduce(0, +)
        }
        return ticks / ticksPerSecond
    }
}

/// What one run of one method cost.
struct PreflightSample {
    var wall: Double
    /// This process + waited-for children.
    var clientCPU: Double
    var ownProcessCPU: Double
    var childrenCPU: Double
    /// The hosts' sshds (testbed clusters only).
    var sshdCPU: Double?
    var machineBusy: Double

    /// CPU of everything else on the machine meanwhile (other users' builds, say).
    var otherCPU: Double? { sshdCPU.map { machineBusy - clientCPU - $0 } }

    /// Runs `method` once and measures it.
    static func measure(_ method: PreflightMethod, sshdPidFiles: [String]?) async throws -> PreflightSample {
        let sshdBefore = sshdPidFiles.flatMap(CPUCounters.sshdSeconds)
        let before = CPUCounters.now()
        let start = ContinuousClock.now
        try await method.run()
        let duration = ContinuousClock.now - start
        let after = CPUCounters.now()
        // The sshds reap their connection processes just after the clients have gone.
        try await Task.sleep(for: .milliseconds(150))
        let sshdAfter = sshdPidFiles.flatMap(CPUCounters.sshdSeconds)
        let wall = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let own = after.ownProcess - before.ownProcess
        let children = after.children - before.children
        return PreflightSample(
            wall: wall, clientCPU: own + children, ownProcessCPU: own, childrenCPU: children,
            sshdCPU: sshdBefore.flatMap { before in sshdAfter.map { $0 - before } },
            machineBusy: after.machineBusy - before.machineBusy)
    }
}

/// What the remote user's login shell costs before it runs the command: sshd runs `SHELL -c true`
/// with SSH_CLIENT set, and bash then reads ~/.bashrc. Measured here, so it says something about
/// the hosts only when they share this machine's files (namespace hosts do).
enum ShellStartup {
    /// Median CPU and wall seconds of `SHELL -c true` as sshd would start it for `user`, or nil
    /// when the user is unknown.
    static func measure(user: String, runs: Int = 5) throws -> (shell: String, cpu: Double, wall: Double)? {
        guard let entry = getpwnam(user), let shellPointer = entry.pointee.pw_shell,
            let homePointer = entry.pointee.pw_dir
        else { return nil }
        let shell = String(cString: shellPointer)
        let environment = [
            "HOME": String(cString: homePointer), "USER": user, "LOGNAME": user, "SHELL": shell,
            "PATH": "/usr/local/bin:/usr/bin:/bin", "SSH_CLIENT": "10.0.0.1 40000 22",
            "SSH_CONNECTION": "10.0.0.1 40000 10.0.0.2 22",
        ]
        var cpu: [Double] = []
        var wall: [Double] = []
        for _ in 0..<runs {
            let before = CPUCounters.now()
            let start = ContinuousClock.now
            _ = try ChildProcess.run([shell, "-c", "true"], environment: environment)
            let duration = ContinuousClock.now - start
            cpu.append(CPUCounters.now().children - before.children)
            wall.append(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
        }
        guard let cpuMedian = Statistics(cpu)?.median, let wallMedian = Statistics(wall)?.median else { return nil }
        return (shell, cpuMedian, wallMedian)
    }
}

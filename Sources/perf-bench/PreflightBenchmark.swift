import ArgumentParser
import Foundation
import PerfCore

/// `perf-bench preflight`: reaching every host of a cluster once, side by side with the OpenSSH
/// baselines of issue 3 (pdsh with a fan-out, and one ssh after another).
struct PreflightBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preflight",
        abstract: "Measures reaching every host of a cluster once, against pdsh and a serial ssh loop.",
        discussion: """
            Reads the hosts and SSH settings (user, identity, known_hosts, port) of --cluster, a \
            cluster.yaml such as scripts/testbed/cluster.sh writes (`cluster.sh up 32 DIR`). Each \
            repetition runs every method once, in an order rotated by one per repetition: "pdsh" is \
            `pdsh -R ssh -S -f FANOUT -l USER -w HOSTS true` with the cluster's identity and known_hosts \
            (strict, batch mode, no ~/.ssh/config) in PDSH_SSH_ARGS_APPEND; "serial" is one \
            `ssh … HOST true` after another with the same options. A method fails the benchmark when a \
            host does not answer. Per method: wall-clock seconds (median, min, max), the client's CPU \
            seconds (this process plus the children it waited for, from getrusage), the hosts' sshd CPU \
            seconds (testbed clusters: from /proc of the sshds whose pid files lie beside cluster.yaml), \
            the busy time of the whole machine, and the ratio to pdsh. The namespace hosts' sshds run on \
            this machine's cores, so the client's and the servers' CPU together bound the parallel speed-up. \
            Methods that are not baselines must be no slower than pdsh (median wall); the command exits \
            with status 1 when one is slower.
            """)

    @Option(help: "A cluster.yaml whose hosts are all reached over SSH (scripts/testbed/cluster.sh writes one).")
    var cluster: String

    @Option(help: "Measured repetitions of every method.")
    var repetitions = 5

    @Option(help: "How many hosts pdsh (and parallel methods) reach at once.")
    var fanOut = 32

    @Option(help: "Unmeasured repetitions first (the sshds' first logins, caches).")
    var warmUp = 1

    func validate() throws {
        guard repetitions > 0 else { throw ValidationError("--repetitions must be positive") }
        guard fanOut > 0 else { throw ValidationError("--fan-out must be positive") }
        guard warmUp >= 0 else { throw ValidationError("--warm-up must be 0 or more") }
    }

    /// The methods measured, the reference (pdsh) first. Another method is one more element: a
    /// `PreflightMethod` whose `run` reaches every host of `target` once and throws when one does
    /// not answer, with `isBaseline: false` so that it is held to the pdsh target.
    static func methods(_ target: PreflightTarget, fanOut: Int, perfctl: PerfctlPreflight) -> [PreflightMethod] {
        [
            OpenSSHBaselines.pdsh(target, fanOut: fanOut),
            OpenSSHBaselines.serial(target),
            perfctl.method(fanOut: fanOut),
        ]
    }

    func run() async throws {
        let config: ClusterConfig
        do {
            config = try ConfigLoader.loadCluster(file: cluster)
        } catch {
            throw BenchmarkError(error.description)
        }
        let target = try PreflightTarget(cluster: config)
        let perfctl = try await PerfctlPreflight.prepare(config)
        let methods = Self.methods(target, fanOut: fanOut, perfctl: perfctl)
        try Self.requireTools(for: methods)

        let cores = ProcessInfo.processInfo.activeProcessorCount
        print(
            "perf-bench preflight: \(target.addresses.count) hosts of \(config.file), user \(target.user), "
                + "fan-out \(fanOut), \(repetitions) repetitions after \(warmUp) warm-up")
        print("machine: \(cores) cores, load average \(Self.loadAverage())")
        if target.sshdPidFiles == nil {
            print("sshd CPU: not measured (no <host>.sshd.pid beside the cluster file: not a testbed cluster)")
        } else if let startup = try ShellStartup.measure(user: target.user) {
            // Namespace hosts share this machine's files: their logins read the same start-up files.
            print(
                "login shell of \(target.user) (\(startup.shell) -c true as sshd starts it, start-up files included): "
                    + "\(Self.milliseconds(startup.cpu)) ms CPU, \(Self.milliseconds(startup.wall)) ms wall per login")
        }
        for method in methods { print("\(method.name): \(method.command)") }

        var samples: [String: [PreflightSample]] = [:]
        for repetition in (1 - warmUp)...repetitions {
            // Rotate the order so that no method always runs first (or right after another).
            let offset = (repetition - 1 + warmUp) % methods.count
            let order = Array(methods[offset...] + methods[..<offset])
            var line = repetition < 1 ? "warm-up" : "rep \(repetition)"
            for method in order {
                let sample = try await PreflightSample.measure(method, sshdPidFiles: target.sshdPidFiles)
                if repetition >= 1 { samples[method.name, default: []].append(sample) }
                line += "  \(method.name) \(Self.seconds(sample.wall)) s (client CPU \(Self.seconds(sample.clientCPU)) s"
                if let sshd = sample.sshdCPU { line += ", sshd \(Self.seconds(sshd)) s" }
                line += ")"
            }
            print(line)
        }
        let passed = Self.report(methods, samples, hosts: target.addresses.count, cores: cores)
        print("load average at the end: \(Self.loadAverage())")
        if !passed { throw ExitCode(1) }
    }

    /// The table of medians and the verdict of every method that is not a baseline; true when they pass.
    static func report(_ methods: [PreflightMethod], _ samples: [String: [PreflightSample]], hosts: Int, cores: Int)
        -> Bool
    {
        func median(_ name: String, _ value: (PreflightSample) -> Double?) -> Double {
            Statistics((samples[name] ?? []).compactMap(value))?.median ?? .nan
        }
        let reference = methods[0].name
        let referenceWall = median(reference, \.wall)
        print("")
        print(
            "method    wall median     min     max   client CPU (own + children)   sshd CPU   machine busy   "
                + "wall vs \(reference)")
        for method in methods {
            let walls = Statistics(samples[method.name]?.map(\.wall) ?? [])
            let wall = walls?.median ?? .nan
            let columns = [
                pad(method.name, 8, left: true),
                pad(seconds(wall) + " s", 13), pad(seconds(walls?.min ?? .nan), 7), pad(seconds(walls?.max ?? .nan), 7),
                pad(seconds(median(method.name, \.clientCPU)) + " s", 12),
                pad("(\(seconds(median(method.name, \.ownProcessCPU))) + \(seconds(median(method.name, \.childrenCPU))))", 16),
                pad(seconds(median(method.name, \.sshdCPU)) + " s", 10),
                pad(seconds(median(method.name, \.machineBusy)) + " s", 14),
                pad(String(format: "%.2f×", wall / referenceWall), 12),
            ]
            print(columns.joined(separator: " "))
        }
        print("")
        for method in methods {
            let wall = median(method.name, \.wall)
            let client = median(method.name, \.clientCPU)
            let sshd = median(method.name, \.sshdCPU)
            var line =
                "\(method.name): \(milliseconds(wall / Double(hosts))) ms per host. Client CPU \(seconds(client)) s = "
                + "\(percent(client / wall)) of the wall time (\(percent(client / wall / Double(cores))) of \(cores) cores)."
            if sshd.isFinite {
                let floor = (client + sshd) / Double(cores)
                line +=
                    " sshds \(milliseconds(sshd / Double(hosts))) ms CPU per login. Client + sshds \(seconds(client + sshd)) s "
                    + "of CPU: at least \(seconds(floor)) s on \(cores) cores (\(percent(floor / wall)) of the wall time). "
                    + "Other processes \(seconds(median(method.name, \.otherCPU))) s of CPU meanwhile."
            }
            print(line)
        }
        var passed = true
        for method in methods where !method.isBaseline {
            let wall = median(method.name, \.wall)
            let pass = wall <= referenceWall
            passed = passed && pass
            print(
                "target: \(method.name) no slower than \(reference) (median wall): \(pass ? "PASS" : "FAIL") "
                    + "(\(seconds(wall)) s vs \(seconds(referenceWall)) s)")
        }
        return passed
    }

    /// Fails early, with the package to install, when a method's program is missing.
    static func requireTools(for methods: [PreflightMethod]) throws {
        let searchPath = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        let packages = ["pdsh": "pdsh", "ssh": "openssh-client"]
        for program in Set(methods.flatMap(\.programs)).sorted() {
            guard searchPath.contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/\(program)") }) else {
                let install = packages[program].map { ": apt-get install \($0) (scripts/setup.sh installs it)" } ?? ""
                throw BenchmarkError("\(program) is not on PATH\(install)")
            }
        }
    }

    static func seconds(_ value: Double) -> String { value.isFinite ? String(format: "%.2f", value) : "–" }

    static func milliseconds(_ value: Double) -> String { String(format: "%.0f", value * 1000) }

    static func percent(_ value: Double) -> String { value.isFinite ? String(format: "%.0f %%", value * 100) : "–" }

    static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? text + fill : fill + text
    }

    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "unknown"
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}

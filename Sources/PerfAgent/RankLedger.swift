import Foundation
import Glibc
import PerfCore

/// The rank process groups this host's daemon has running, one file each under
/// `<root>/hosts/<hostname>/ranks/`: a daemon that starts after one that died
/// (SIGKILL, crash) stops what the dead one left running.
///
/// Each file is named by the group id (the rank's leader pid) and holds the leader's
/// start time from /proc, so a reused pid is never mistaken for a rank.
struct RankLedger: Sendable {
    let directory: String

    init(hostDirectory: String) {
        directory = FilePaths.join(hostDirectory, "ranks")
    }

    /// Notes a rank's group as running.
    func record(group: pid_t) {
        guard let started = Self.startTime(of: group) else { return }
        try? Directories.create(directory)
        try? AtomicFile.write("\(started)\n", to: path(group))
    }

    /// Notes a rank's group as gone.
    func forget(group: pid_t) {
        unlink(path(group))
    }

    /// Kills (SIGKILL) every recorded group whose leader is still the process recorded,
    /// forgets them all, and returns the groups killed.
    func reapLeftovers() -> [pid_t] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var killed: [pid_t] = []
        for name in names {
            guard let group = pid_t(name) else { continue }
            let recorded = (try? String(contentsOfFile: path(group), encoding: .utf8))
                .flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if let recorded, Self.startTime(of: group) == recorded, kill(-group, SIGKILL) == 0 {
                killed.append(group)
            }
            forget(group: group)
        }
        return killed.sorted()
    }

    private func path(_ group: pid_t) -> String { FilePaths.join(directory, String(group)) }

    /// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
    static func startTime(of pid: pid_t) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm)" come fields 3…; the start time is field 22, the 20th of them.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}

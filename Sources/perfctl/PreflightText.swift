import PerfWire

/// Preflight outcomes as lines for people.
enum PreflightText {
    /// Every check when `verbose`, else a one-line pass and the warnings and failures.
    static func lines(host: String, report: PreflightReport, verbose: Bool) -> String {
        let notable = verbose ? report.checks : report.checks.filter { $0.outcome != .passed }
        var lines = ["  \(host): preflight \(report.passed ? "passed" : "FAILED")"]
        for check in notable {
            lines.append("    \(check.outcome.rawValue) \(check.name): \(check.detail)")
            if let fix = check.fix, check.outcome != .passed { lines.append("      fix: \(fix)") }
        }
        return lines.joined(separator: "\n")
    }
}

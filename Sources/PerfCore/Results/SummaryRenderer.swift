import Foundation

/// Renders `summary.md` and `summary.csv` from a case's results.
public enum SummaryRenderer {
    /// The Markdown summary `perfctl run` prints at the end.
    public static func markdown(
        record: RunRecord, caseResult: CaseResult, rounds: [RoundResult], runDirectory: String
    ) -> String {
        let plan = record.plan
        var lines: [String] = []
        lines.append("# \(plan.caseName) on \(plan.vendor) — run \(plan.runID)")
        lines.append("")
        lines.append(
            "preset \(plan.preset ?? "(none)") · \(plan.nnodes) node(s) × \(plan.nprocPerNode) rank(s) = world size \(plan.worldSize) · "
                + "rounds: \(caseResult.roundsPassed) passed, \(caseResult.roundsFailed) failed of \(caseResult.roundsPlanned) · "
                + "verdict **\(caseResult.verdict.rawValue.uppercased())**")
        lines.append("")
        lines.append("| metric | unit | better | mean | median | min | max | stddev | rsd % | n |")
        lines.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for metric in caseResult.metrics {
            let name = metric.primary ? "**\(metric.name)**" : metric.name
            let better = metric.higherIsBetter.map { $0 ? "higher" : "lower" } ?? ""
            if let s = metric.statistics {
                lines.append(
                    "| \(name) | \(metric.unit ?? "") | \(better) | \(format(s.mean)) | \(format(s.median)) | "
                        + "\(format(s.min)) | \(format(s.max)) | \(format(s.stddev)) | "
                        + "\(s.relativeStddevPercent.map { String(format: "%.2f", $0) } ?? "") | \(s.count) |")
            } else {
                lines.append("| \(name) | \(metric.unit ?? "") | \(better) | – | – | – | – | – | – | 0 |")
            }
        }
        lines.append("")
        let shown = caseResult.metrics.filter { $0.primary }.map(\.name)
        lines.append("| round | verdict | duration s |" + shown.map { " \($0) |" }.joined())
        lines.append("|---:|---|---:|" + shown.map { _ in "---:|" }.joined())
        for round in rounds {
            lines.append(
                "| \(round.round) | \(round.verdict.rawValue) | \(String(format: "%.1f", round.durationSeconds)) |"
                    + shown.map { " \(round.values[$0].map { format($0) } ?? "–") |" }.joined())
        }
        let failures = rounds.flatMap { round in round.failures.map { "round \(round.round): \($0)" } }
        if !failures.isEmpty {
            lines.append("")
            lines.append("## Failures")
            lines += failures.map { "- \($0)" }
        }
        let badLines = rounds.reduce(into: [String: Int]()) { total, round in
            for (reason, count) in round.badLines { total[reason, default: 0] += count }
        }
        if !badLines.isEmpty {
            lines.append("")
            lines.append("## PerfLog lines that could not be read")
            lines += badLines.sorted { $0.key < $1.key }.map { "- \($0.key): \($0.value)" }
        }
        lines.append("")
        lines.append("Results: \(runDirectory)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// One row per metric with its statistics (empty cells where there are none).
    public static func csv(caseResult: CaseResult) -> String {
        var rows = ["case,preset,vendor,metric,unit,higher_is_better,primary,n,mean,median,min,max,stddev"]
        for metric in caseResult.metrics {
            let s = metric.statistics
            let fields: [String] = [
                caseResult.caseName, caseResult.preset ?? "", caseResult.vendor, metric.name, metric.unit ?? "",
                metric.higherIsBetter.map { String($0) } ?? "", String(metric.primary), String(s?.count ?? 0),
                s.map { String($0.mean) } ?? "", s.map { String($0.median) } ?? "", s.map { String($0.min) } ?? "",
                s.map { String($0.max) } ?? "", s.map { String($0.stddev) } ?? "",
            ]
            rows.append(fields.map(csvField).joined(separator: ","))
        }
        return rows.joined(separator: "\n") + "\n"
    }

    /// `failures.log`: one line per failure, round first.
    public static func failuresLog(rounds: [RoundResult], abortReason: String?) -> String {
        var lines = rounds.flatMap { round in round.failures.map { "round \(round.round): \($0)" } }
        if let abortReason { lines.append("run aborted: \(abortReason)") }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// Four significant digits; whole numbers from 10 000 up to 10^12.
    public static func format(_ value: Double) -> String {
        let magnitude = Swift.abs(value)
        if magnitude >= 1e4 && magnitude < 1e12 { return String(format: "%.0f", value) }
        return String(format: "%.4g", value)
    }

    private static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

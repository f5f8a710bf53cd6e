import ArgumentParser
import Foundation
import PerfController
import PerfCore

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a run would start where, without running anything.",
        discussion: """
            Prints every node's ranks with their command, working directory and environment. \
            PERF_ROUND and PERF_LOG_DIR are added by the node's agent for each round.

            Examples:
              perfctl plan cases/llama2_7b
              perfctl plan cases/llama2_7b --preset tiny --nproc-per-node 4
              perfctl plan cases/llama2_7b --json | jq '.nodes[0].ranks[0].environment'
            """
    )

    @OptionGroup var options: ClusterOptions
    @OptionGroup var selection: CaseSelection

    @Flag(help: "Print the plan as JSON.")
    var json = false

    func run() async throws {
        let plan = try await reportingUserErrors {
            let workspace = try Workspace.load(
                clusterFile: options.cluster, caseArgument: selection.caseName, resultsOverride: options.results)
            return try Planner.plan(
                cluster: workspace.cluster, case: workspace.caseConfig, vendor: workspace.vendor,
                preset: selection.preset, overrides: selection.overrides, runID: "<run-id>")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(plan), as: UTF8.self))
        } else {
            print(PlanTable.render(plan), terminator: "")
        }
    }
}

/// The human view of a plan: a header, a node table, then the environment.
enum PlanTable {
    static func render(_ plan: RunPlan) -> String {
        var out = "case \(plan.caseName) · preset \(plan.preset ?? "(none)") · vendor \(plan.vendor) (runtime \(plan.runtime.rawValue))\n"
        out += "\(plan.rounds) round(s), timeout \(SummaryRenderer.format(plan.roundTimeout)) s each · "
        out += "\(plan.nnodes) node(s) × \(plan.nprocPerNode) rank(s) = world size \(plan.worldSize)"
        if let dtype = plan.dtype {
            let peak = plan.peakFlopsPerRank.map { String(format: "%.4g", $0) } ?? "unknown"
            out += " · dtype \(dtype), peak \(peak) FLOP/s per rank"
        }
        out += "\n\n"
        let rows = plan.nodes.map { node in
            [String(node.nodeRank), node.hostName, node.address, node.isLocal ? "local pipe" : "ssh",
             node.ranks.map { String($0.rank) }.joined(separator: ",")]
        }
        out += table(header: ["NODE", "HOST", "ADDRESS", "TRANSPORT", "RANKS"], rows: rows)
        guard let first = plan.nodes.first?.ranks.first else { return out }
        out += "\ncommand: \(first.argv.map(shellQuoted).joined(separator: " "))\n"
        out += "working directory: \(first.workingDirectory)\n"
        let perRank: Set<String> = ["RANK", "LOCAL_RANK", "NODE_RANK"]
        out += "\nenvironment of every rank:\n"
        for (key, value) in first.environment.sorted(by: { $0.key < $1.key }) where !perRank.contains(key) {
            out += "  \(key)=\(value)\n"
        }
        out += "\nper rank:\n"
        for node in plan.nodes {
            for rank in node.ranks {
                out += "  rank \(rank.rank): NODE_RANK=\(node.nodeRank) LOCAL_RANK=\(rank.localRank) "
                    + "RANK=\(rank.rank) on \(node.hostName)\n"
            }
        }
        return out
    }

    private static func table(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    private static func shellQuoted(_ word: String) -> String {
        let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) }
        return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

import Foundation
import Testing

@testable import PerfCore

/// A cluster tree in a fresh temporary folder: cluster.yaml, vendors/<name>/vendor.yaml and
/// cases/<name>/case.yaml, written from the texts a test gives; removed when the tree goes away.
final class ConfigTree {
    static let cluster = """
        vendor: cpu
        hosts:
          - address: localhost

        """
    static let vendor = """
        runtime: process
        peak_flops: {fp32: 7.2e10}

        """
    static let caseFile = """
        framework: pytorch
        entry: [python3, train.py]

        """

    /// Absolute path of the tree's folder.
    let root: String

    /// A tree with the given files; `nil` leaves a file out. Cases and vendors are keyed by folder name.
    init(
        cluster: String? = ConfigTree.cluster, vendors: [String: String] = ["cpu": ConfigTree.vendor],
        cases: [String: String] = ["demo": ConfigTree.caseFile]
    ) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("perfctl-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        if let cluster { try write("cluster.yaml", cluster) }
        for (name, text) in vendors { try write("vendors/\(name)/vendor.yaml", text) }
        for (name, text) in cases { try write("cases/\(name)/case.yaml", text) }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// The absolute path of `relative` in the tree.
    func path(_ relative: String) -> String { root + "/" + relative }

    var clusterFile: String { path("cluster.yaml") }

    func write(_ relative: String, _ text: String) throws {
        try write(relative, bytes: Data(text.utf8))
    }

    func write(_ relative: String, bytes: Data) throws {
        let file = path(relative)
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try bytes.write(to: URL(fileURLWithPath: file))
    }

    /// The problems `load` throws; none when it succeeds.
    static func problems<T>(_ load: () throws(UserErrors) -> T) -> [UserError] {
        do {
            _ = try load()
            return []
        } catch {
            return error.errors
        }
    }
}

/// Expects exactly one problem and that it sits at `location` and says what it should.
func expectOneProblem(
    _ problems: [UserError], at location: String, message: [String], fix: [String],
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    #expect(problems.count == 1, "problems: \(problems)", sourceLocation: sourceLocation)
    guard let problem = problems.first else { return }
    expectProblem(problem, at: location, message: message, fix: fix, sourceLocation: sourceLocation)
}

/// Expects `problem` at `location`, its message and fix containing every given fragment.
func expectProblem(
    _ problem: UserError, at location: String, message: [String], fix: [String],
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    #expect(problem.location == location, "\(problem)", sourceLocation: sourceLocation)
    for fragment in message {
        #expect(problem.message.contains(fragment), "message lacks \(fragment): \(problem)", sourceLocation: sourceLocation)
    }
    for fragment in fix {
        #expect(problem.fix?.contains(fragment) == true, "fix lacks \(fragment): \(problem)", sourceLocation: sourceLocation)
    }
}

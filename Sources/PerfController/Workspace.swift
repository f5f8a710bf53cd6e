import Foundation
import PerfCore

/// The configuration a command works on: the cluster, one case and the cluster's vendor.
public struct Workspace: Sendable {
    public var cluster: ClusterConfig
    public var caseConfig: CaseConfig
    public var vendor: VendorConfig

    /// Loads the cluster file, the case named by `caseArgument` and the cluster's vendor.
    /// - Parameters:
    ///   - caseArgument: a case folder (`cases/llama2_7b`) or a case name under the cluster's cases folder.
    ///   - resultsOverride: a results directory that replaces the cluster file's.
    public static func load(clusterFile: String, caseArgument: String, resultsOverride: String?) throws -> Workspace {
        var cluster = try ConfigLoader.loadCluster(file: clusterFile)
        if let resultsOverride {
            cluster.resultsDirectory = FilePaths.resolve(resultsOverride, against: FileManager.default.currentDirectoryPath)
        }
        let caseDirectory = try locateCase(caseArgument, casesDirectory: cluster.casesDirectory)
        let caseConfig = try ConfigLoader.loadCase(directory: caseDirectory)
        let vendor = try ConfigLoader.loadVendor(named: cluster.vendor, in: cluster.vendorsDirectory)
        return Workspace(cluster: cluster, caseConfig: caseConfig, vendor: vendor)
    }

    /// The absolute case folder for `argument`: a folder holding case.yaml, or a name under `casesDirectory`.
    static func locateCase(_ argument: String, casesDirectory: String) throws(UserError) -> String {
        let asPath = FilePaths.resolve(argument, against: FileManager.default.currentDirectoryPath)
        if FileManager.default.fileExists(atPath: FilePaths.join(asPath, "case.yaml")) { return asPath }
        let byName = FilePaths.join(casesDirectory, argument)
        if !argument.contains("/"), FileManager.default.fileExists(atPath: FilePaths.join(byName, "case.yaml")) {
            return byName
        }
        let known = ((try? FileManager.default.contentsOfDirectory(atPath: casesDirectory)) ?? [])
            .filter { FileManager.default.fileExists(atPath: FilePaths.join(FilePaths.join(casesDirectory, $0), "case.yaml")) }
            .sorted()
        throw UserError(
            "no case at \(argument): neither \(asPath)/case.yaml nor \(byName)/case.yaml exists",
            fix: known.isEmpty ? "create the case folder with a case.yaml"
                : "use one of: \(known.map { "cases/\($0)" }.joined(separator: ", "))")
    }
}

import ArgumentParser
import Foundation
import PerfCore

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check cluster.yaml, every case and every vendor, and report every problem at once.",
        discussion: """
            Each problem names the file, line and column and says what to write instead. Exit \
            status: 0 when everything is valid, 2 otherwise.

            Examples:
              perfctl validate
              perfctl validate --cluster lab/cluster.yaml
            """
    )

    @OptionGroup var options: ClusterOptions

    func run() async throws {
        let problems = ConfigLoader.validateAll(clusterFile: options.cluster)
        guard problems.isEmpty else {
            printError(UserErrors(problems).description)
            printError("\(problems.count) problem(s) found")
            throw ExitCode(2)
        }
        let cluster = try ConfigLoader.loadCluster(file: options.cluster)
        let cases = Self.folders(in: cluster.casesDirectory, holding: "case.yaml")
        let vendors = Self.folders(in: cluster.vendorsDirectory, holding: "vendor.yaml")
        print("ok: \(options.cluster) (\(cluster.hosts.count) host(s), vendor \(cluster.vendor)); "
            + "cases: \(cases.joined(separator: ", ")); vendors: \(vendors.joined(separator: ", "))")
    }

    /// Names of the sub-folders of `directory` that hold `file`, sorted.
    private static func folders(in directory: String, holding file: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: "\(directory)/\($0)/\(file)") }.sorted()
    }
}

import ArgumentParser
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
        print("ok: \(options.cluster), its cases and vendors are valid")
    }
}

import ArgumentParser
import Foundation
import PerfCore

/// Runs `body`, printing user errors (what, where, what to do) to stderr and exiting 2 on them.
func reportingUserErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let errors as UserErrors {
        printError(errors.description)
        throw ExitCode(2)
    } catch let error as UserError {
        printError(error.description)
        throw ExitCode(2)
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

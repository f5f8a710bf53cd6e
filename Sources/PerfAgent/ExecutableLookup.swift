import Glibc

/// Finds the program a rank's argv[0] names, the way a shell would.
enum ExecutableLookup {
    /// The absolute path to run, or a sentence saying why there is none.
    static func resolve(
        _ command: String, path: String?, workingDirectory: String
    ) -> Result<String, LaunchFailure> {
        if command.contains("/") {
            let candidate = command.hasPrefix("/") ? command : workingDirectory + "/" + command
            return isExecutable(candidate)
                ? .success(candidate)
                : .failure(LaunchFailure("entry command `\(command)` is not an executable file (looked at \(candidate))"))
        }
        let directories = (path ?? "").split(separator: ":", omittingEmptySubsequences: true)
        for directory in directories {
            let base = directory.hasPrefix("/") ? String(directory) : workingDirectory + "/" + directory
            let candidate = base + "/" + command
            if isExecutable(candidate) { return .success(candidate) }
        }
        return .failure(LaunchFailure("entry command `\(command)` not found in PATH=\(path ?? "")"))
    }

    private static func isExecutable(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }
}

/// Why a rank could not be started.
struct LaunchFailure: Error, Sendable {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

import PerfCore
@testable import PerfSSH

/// The `UserError` that `body` throws, or nil when it succeeds or throws something else.
func userError(_ body: () async throws -> Void) async -> UserError? {
    do {
        try await body()
        return nil
    } catch let error as UserError {
        return error
    } catch {
        return nil
    }
}

extension SSHCommandResult {
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

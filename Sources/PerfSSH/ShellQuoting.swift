/// Quoting of remote arguments for the POSIX shell that sshd runs commands with.
public enum ShellQuoting {
    /// One argument in single quotes, so the remote shell passes it through unchanged:
    /// spaces, `$`, `;`, backquotes, newlines and quotes lose their meaning.
    public static func quote(_ argument: String) -> String {
        "'" + argument.replacing("'", with: "'\\''") + "'"
    }

    /// A command line where every argument, the program included, is quoted.
    public static func commandLine(_ arguments: [String]) -> String {
        arguments.map(quote).joined(separator: " ")
    }
}

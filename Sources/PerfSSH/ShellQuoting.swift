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

extension ShellQuoting {
    /// A path for the remote shell: quoted like any argument, except that a leading
    /// `~/` becomes `"$HOME"/`, so the path is under the remote user's home.
    public static func quotePath(_ path: String) -> String {
        if path == "~" { return "\"$HOME\"" }
        if path.hasPrefix("~/") { return "\"$HOME\"/" + quote(String(path.dropFirst(2))) }
        return quote(path)
    }
}

import SystemPackage
import Glibc

/// Creating directories, `mkdir -p` style.
public enum Directories {
    /// Creates `path` and its missing parents with mode 0755.
    public static func create(_ path: String) throws(UserError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                let cause = Errno(rawValue: errno)
                throw UserError("cannot create directory \(current): \(cause)",
                                fix: "check the path and its permissions")
            }
        }
    }

    /// Whether `path` exists and is a directory.
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}

import Foundation

/// A config file or folder named two ways: as messages show it (derived from the path the caller gave,
/// never rewritten) and as an absolute path for the model.
struct ConfigPath: Equatable {
    /// What error locations start with.
    var display: String
    var absolute: String

    /// A path as the caller gave it; a relative one is taken from the working directory.
    static func given(_ path: String) -> ConfigPath {
        ConfigPath(display: path, absolute: FilePaths.resolve(expandingTilde(path), against: FileManager.default.currentDirectoryPath))
    }

    func appending(_ component: String) -> ConfigPath {
        ConfigPath(display: FilePaths.join(display, component), absolute: FilePaths.join(absolute, component))
    }

    /// The folder holding this path.
    var parent: ConfigPath {
        ConfigPath(display: FilePaths.directory(of: display), absolute: FilePaths.directory(of: absolute))
    }

    /// A path written in a config file that lives in this folder: relative to it, `~` meaning the home folder.
    func resolving(_ setting: String) -> ConfigPath {
        ConfigPath(display: FilePaths.resolve(setting, against: display),
                   absolute: FilePaths.resolve(Self.expandingTilde(setting), against: absolute))
    }

    /// `~` and `~user` made the home folder, as a shell would; other paths unchanged.
    private static func expandingTilde(_ path: String) -> String {
        path.hasPrefix("~") ? NSString(string: path).expandingTildeInPath : path
    }
}

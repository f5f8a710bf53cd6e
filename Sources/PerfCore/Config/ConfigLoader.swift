import Foundation

/// Loads perfctl's three config files (the cluster, a case, a vendor) and checks them.
///
/// Every problem is a `UserError` whose location is `path:line:column` of the offending YAML node
/// (for a missing key: of the mapping that lacks it), with the path as the caller gave it, and whose
/// fix says what to write instead. All problems of a file are reported together.
public enum ConfigLoader {
    /// Reads a cluster file (`cluster.yaml`); relative folders in it start at the file's folder.
    public static func loadCluster(file: String) throws(UserErrors) -> ClusterConfig {
        let parsed = readCluster(.given(file))
        guard let cluster = parsed.value, parsed.errors.isEmpty else { throw UserErrors(parsed.errors) }
        return cluster.config
    }

    /// Reads `<directory>/case.yaml`; the case is named after the folder.
    public static func loadCase(directory: String) throws(UserErrors) -> CaseConfig {
        let parsed = readCase(in: .given(directory))
        guard let config = parsed.value, parsed.errors.isEmpty else { throw UserErrors(parsed.errors) }
        return config
    }

    /// Reads `<vendorsDirectory>/<name>/vendor.yaml`; a vendor that does not exist is reported with
    /// the vendors that do.
    public static func loadVendor(named name: String, in vendorsDirectory: String) throws(UserErrors) -> VendorConfig {
        let parsed = readVendor(named: name, in: .given(vendorsDirectory))
        guard let config = parsed.value, parsed.errors.isEmpty else { throw UserErrors(parsed.errors) }
        return config
    }

    /// Checks the cluster file, every case folder under its cases folder and every vendor under its
    /// vendors folder, then how they fit together: the cluster's vendor exists, each case and preset
    /// needs no more nodes than there are hosts and no more ranks per node than the vendor has devices,
    /// and each dtype has a peak in the vendor's `peak_flops`. Returns every problem (empty: all valid).
    public static func validateAll(clusterFile: String) -> [UserError] {
        ConfigValidator.validate(clusterFile: .given(clusterFile))
    }

    // MARK: Reading without throwing (for validateAll)

    static func readCluster(_ file: ConfigPath) -> ParsedConfig<ClusterFile> {
        guard FileManager.default.fileExists(atPath: file.absolute) else {
            return ParsedConfig(value: nil, errors: [UserError(
                "\(FilePaths.lastComponent(of: file.display)) not found at \(file.absolute)", at: file.display,
                fix: "create it (the repository's cluster.yaml is a starting point), or pass --cluster FILE")])
        }
        return ClusterFileParser.parse(YAMLDocument.read(file), file: file)
    }

    static func readCase(in directory: ConfigPath) -> ParsedConfig<CaseConfig> {
        let file = directory.appending("case.yaml")
        guard FileManager.default.fileExists(atPath: file.absolute) else {
            let folderExists = FileManager.default.fileExists(atPath: directory.absolute)
            return ParsedConfig(value: nil, errors: [UserError(
                folderExists ? "case folder \(directory.display) has no case.yaml"
                    : "case folder \(directory.display) does not exist",
                at: directory.display,
                fix: "create \(file.display) with at least `framework:` and `entry:`"
                    + (folderExists ? ", or remove the folder" : ""))])
        }
        return CaseFileParser.parse(YAMLDocument.read(file), directory: directory, file: file)
    }

    static func readVendor(named name: String, in vendorsDirectory: ConfigPath) -> ParsedConfig<VendorConfig> {
        let folder = vendorsDirectory.appending(name)
        let file = folder.appending("vendor.yaml")
        guard CharacterPattern.fileName.matches(name), FileManager.default.fileExists(atPath: file.absolute) else {
            return ParsedConfig(value: nil, errors: [missingVendor(name, in: vendorsDirectory, at: folder.display)])
        }
        return VendorFileParser.parse(YAMLDocument.read(file), name: name, file: file)
    }

    /// The error for a vendor without a vendor.yaml, listing the vendors there are.
    static func missingVendor(_ name: String, in vendorsDirectory: ConfigPath, at location: String) -> UserError {
        let folder = vendorsDirectory.appending(name)
        let known = vendorNames(in: vendorsDirectory)
        let message = !CharacterPattern.fileName.matches(name)
            ? "`\(name)` is not a vendor name: a vendor is a folder directly under \(vendorsDirectory.display)"
            : FileManager.default.fileExists(atPath: folder.absolute)
            ? "vendor folder \(folder.display) has no vendor.yaml"
            : "vendor `\(name)` does not exist: there is no \(folder.appending("vendor.yaml").display)"
        let create = "create \(folder.appending("vendor.yaml").display)"
        let fix = known.isEmpty ? "\(create) (no vendor exists in \(vendorsDirectory.display) yet)"
            : "use one of the vendors in \(vendorsDirectory.display): \(known.map { "`\($0)`" }.joined(separator: ", ")); or \(create)"
        return UserError(message, at: location, fix: fix)
    }

    /// Names of the folders under `vendorsDirectory` that hold a vendor.yaml, sorted.
    static func vendorNames(in vendorsDirectory: ConfigPath) -> [String] {
        subfolders(of: vendorsDirectory.absolute).filter {
            FileManager.default.fileExists(atPath: FilePaths.join(FilePaths.join(vendorsDirectory.absolute, $0), "vendor.yaml"))
        }
    }

    /// Names of the folders in `directory` that are not hidden, sorted; empty when it does not exist.
    static func subfolders(of directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(atPath: FilePaths.join(directory, name), isDirectory: &isDirectory)
                && isDirectory.boolValue
        }.sorted()
    }
}

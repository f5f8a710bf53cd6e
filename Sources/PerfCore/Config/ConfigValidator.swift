import Foundation

/// `ConfigLoader.validateAll`: every file on its own, then how the cluster, its vendor and each case fit.
enum ConfigValidator {
    static func validate(clusterFile: ConfigPath) -> [UserError] {
        let parsedCluster = ConfigLoader.readCluster(clusterFile)
        guard let cluster = parsedCluster.value else { return parsedCluster.errors }
        let clusterConfig = cluster.config
        var errors = parsedCluster.errors

        let vendorFolders = ConfigLoader.subfolders(of: cluster.vendorsDirectory.absolute)
        let vendorName = clusterConfig.vendor
        if !vendorName.isEmpty, !vendorFolders.contains(vendorName) {
            errors.append(ConfigLoader.missingVendor(
                vendorName, in: cluster.vendorsDirectory,
                at: clusterConfig.source["vendor"]?.description ?? clusterFile.display))
        }
        var vendors: [String: ParsedConfig<VendorConfig>] = [:]
        for name in vendorFolders {
            let parsed = ConfigLoader.readVendor(named: name, in: cluster.vendorsDirectory)
            errors += parsed.errors
            vendors[name] = parsed
        }

        var cases: [ParsedConfig<CaseConfig>] = []
        if FileManager.default.fileExists(atPath: cluster.casesDirectory.absolute) {
            for name in ConfigLoader.subfolders(of: cluster.casesDirectory.absolute) {
                let parsed = ConfigLoader.readCase(in: cluster.casesDirectory.appending(name))
                errors += parsed.errors
                cases.append(parsed)
            }
        } else {
            errors.append(UserError(
                "the cases folder \(cluster.casesDirectory.display) does not exist",
                at: clusterConfig.source["cases_dir"]?.description ?? clusterFile.display,
                fix: "create it with one folder per case (\(cluster.casesDirectory.appending("<name>/case.yaml").display)), or set `cases_dir:` to the folder that holds them"))
        }

        guard parsedCluster.errors.isEmpty, let vendor = vendors[vendorName], vendor.errors.isEmpty,
              let vendorConfig = vendor.value else { return errors }
        let fit = CaseFit(cluster: clusterConfig, clusterFile: clusterFile.display, vendor: vendorConfig,
                          vendorFile: cluster.vendorsDirectory.appending(vendorName).appending("vendor.yaml").display)
        for parsed in cases where parsed.errors.isEmpty {
            if let caseConfig = parsed.value { errors += fit.problems(of: caseConfig) }
        }
        return errors
    }
}

/// Whether a valid case can run on a valid cluster with its vendor: checks every setting where it is
/// written (the case's own, then each preset's overrides), so each problem is reported once, at its line.
private struct CaseFit {
    let cluster: ClusterConfig
    let clusterFile: String
    let vendor: VendorConfig
    let vendorFile: String

    func problems(of caseConfig: CaseConfig) -> [UserError] {
        let base = CaseOverrides(
            nnodes: caseConfig.settings.nnodes, nprocPerNode: caseConfig.settings.nprocPerNode,
            dtype: caseConfig.settings.dtype)
        var errors = problems(of: base, at: .root, in: caseConfig)
        for name in caseConfig.presets.keys.sorted() {
            if let preset = caseConfig.presets[name] {
                errors += problems(of: preset, at: YAMLPath.root.key("presets").key(name), in: caseConfig)
            }
        }
        return errors
    }

    private func problems(of settings: CaseOverrides, at path: YAMLPath, in caseConfig: CaseConfig) -> [UserError] {
        func location(_ key: String) -> String {
            caseConfig.source[path.key(key).description]?.description ?? caseConfig.file
        }
        var errors: [UserError] = []
        let hostCount = cluster.hosts.count
        if let nnodes = settings.nnodes, nnodes > hostCount {
            errors.append(UserError(
                "`\(path.key("nnodes"))` is \(nnodes), but \(clusterFile) lists \(hostCount) host\(hostCount == 1 ? "" : "s")",
                at: location("nnodes"),
                fix: "add hosts under `hosts:` in \(clusterFile), or set `nnodes: \(hostCount)`"))
        }
        if let nproc = settings.nprocPerNode, let devices = vendor.devicesPerNode, nproc > devices {
            errors.append(UserError(
                "`\(path.key("nproc_per_node"))` is \(nproc), but vendor `\(vendor.name)` has \(devices) devices per node",
                at: location("nproc_per_node"),
                fix: "set `nproc_per_node: \(devices)` or less (or raise `devices_per_node` in \(vendorFile) if the nodes have more)"))
        }
        if let dtype = settings.dtype, vendor.peakFlops[dtype] == nil {
            let known = vendor.peakFlops.keys.sorted()
            let add = "add `\(dtype): <peak FLOP/s of one device>` under `peak_flops:` in \(vendorFile)"
            errors.append(UserError(
                "`\(path.key("dtype"))` is `\(dtype)`, but vendor `\(vendor.name)` has no peak FLOP/s for `\(dtype)`"
                    + (known.isEmpty ? " (it lists no `peak_flops`)" : " (its `peak_flops` lists \(known.map { "`\($0)`" }.joined(separator: ", ")))"),
                at: location("dtype"),
                fix: known.isEmpty ? add : "\(add), or use \(known.count == 1 ? "" : "one of ")\(known.map { "`dtype: \($0)`" }.joined(separator: ", "))"))
        }
        return errors
    }
}

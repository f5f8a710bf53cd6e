/// Turns case × preset × vendor × hosts into a `RunPlan`.
public enum Planner {
    /// Variables every rank gets; the case and vendor cannot override them.
    public static let reservedVariables: Set<String> = [
        "MASTER_ADDR", "MASTER_PORT", "NNODES", "NODE_RANK", "NPROC_PER_NODE", "WORLD_SIZE", "RANK",
        "LOCAL_RANK", "PERF_RUN_ID", "PERF_CASE", "PERF_PRESET", "PERF_ROUND", "PERF_LOG_DIR",
        "PERF_HOME", "PERF_CASE_DIR", "PERF_PEAK_FLOPS",
    ]

    /// Builds the plan.
    /// - Parameters:
    ///   - preset: the preset to apply; `nil` uses the case's `default_preset` (if any).
    ///   - overrides: command-line overrides, applied after the preset.
    public static func plan(
        cluster: ClusterConfig, case config: CaseConfig, vendor: VendorConfig, preset: String?,
        overrides: CaseOverrides, runID: String
    ) throws(UserErrors) -> RunPlan {
        var errors: [UserError] = []
        var settings = config.settings
        let presetName = preset ?? config.defaultPreset
        if let presetName {
            if let presetOverrides = config.presets[presetName] {
                settings = presetOverrides.applied(to: settings)
            } else {
                let known = config.presets.keys.sorted()
                errors.append(UserError(
                    preset == nil ? "case \(config.name) has no preset '\(presetName)'"
                        : "case \(config.name) has no preset '\(presetName)' (from --preset)",
                    at: preset == nil ? Self.location(of: "default_preset", in: config, preset: nil) : nil,
                    fix: known.isEmpty ? "drop --preset: this case defines no presets"
                        : "use one of: \(known.joined(separator: ", "))"))
            }
        }
        settings = overrides.applied(to: settings)
        errors += check(settings, cluster: cluster, vendor: vendor) { key in
            Self.location(of: key, in: config, preset: presetName)
        }
        guard errors.isEmpty else { throw UserErrors(errors) }

        let peak = settings.dtype.flatMap { vendor.peakFlops[$0] }
        let common = commonEnvironment(
            cluster: cluster, case: config, vendor: vendor, settings: settings, preset: presetName,
            peak: peak, runID: runID)
        let hosts = cluster.hosts.prefix(settings.nnodes)
        let nodes = hosts.enumerated().map { nodeRank, host in
            NodePlan(
                nodeRank: nodeRank, hostName: host.name, address: host.address, isLocal: host.isLocal,
                ranks: (0..<settings.nprocPerNode).map { localRank in
                    let rank = nodeRank * settings.nprocPerNode + localRank
                    var env = common
                    env["NODE_RANK"] = String(nodeRank)
                    env["RANK"] = String(rank)
                    env["LOCAL_RANK"] = String(localRank)
                    return RankLaunch(
                        rank: rank, localRank: localRank, argv: settings.entry + settings.args,
                        workingDirectory: config.directory, environment: env)
                })
        }
        return RunPlan(
            runID: runID, caseName: config.name, preset: presetName, vendor: vendor.name,
            runtime: vendor.runtime, image: vendor.image, framework: config.framework,
            rounds: settings.rounds, roundTimeout: settings.roundTimeout, nnodes: settings.nnodes,
            nprocPerNode: settings.nprocPerNode, dtype: settings.dtype, peakFlopsPerRank: peak,
            metrics: config.metrics.map(PlannedMetric.init), nodes: Array(nodes))
    }

    /// Where `key` was set for this run: in the preset if it sets it, else at the top of the case file.
    static func location(of key: String, in config: CaseConfig, preset: String?) -> String {
        let fromPreset = preset.flatMap { config.source["presets.\($0).\(key)"] }
        return (fromPreset ?? config.source[key])?.description ?? config.file
    }

    /// Checks the resolved settings; `location` names where a key was set.
    private static func check(
        _ settings: CaseSettings, cluster: ClusterConfig, vendor: VendorConfig, location: (String) -> String
    ) -> [UserError] {
        var errors: [UserError] = []
        if settings.entry.isEmpty {
            errors.append(UserError("the entry command is empty", at: location("entry"),
                                    fix: "set `entry:` to the program and its arguments, e.g. [python3, train.py]"))
        }
        if settings.nnodes < 1 || settings.nprocPerNode < 1 || settings.rounds < 1 {
            errors.append(UserError(
                "nnodes, nproc_per_node and rounds must be at least 1 (got \(settings.nnodes), \(settings.nprocPerNode), \(settings.rounds))",
                at: location("nproc_per_node"), fix: "use whole numbers ≥ 1"))
        }
        if !(settings.roundTimeout > 0) {
            errors.append(UserError("round_timeout must be a positive number of seconds", at: location("round_timeout"),
                                    fix: "e.g. --round-timeout 600"))
        }
        if settings.nnodes > cluster.hosts.count {
            errors.append(UserError(
                "the case needs \(settings.nnodes) nodes but \(cluster.file) lists \(cluster.hosts.count) host(s)",
                at: location("nnodes"),
                fix: "add hosts to \(FilePaths.lastComponent(of: cluster.file)) or run with --nnodes \(cluster.hosts.count)"))
        }
        if let devices = vendor.devicesPerNode, settings.nprocPerNode > devices {
            errors.append(UserError(
                "nproc_per_node \(settings.nprocPerNode) exceeds the \(devices) devices per node of vendor \(vendor.name)",
                at: location("nproc_per_node"), fix: "use --nproc-per-node \(devices) or fewer"))
        }
        let reserved = settings.env.keys.filter { reservedVariables.contains($0) }.sorted()
        if !reserved.isEmpty {
            errors.append(UserError(
                "env sets \(reserved.joined(separator: ", ")), which perfctl sets for every rank",
                at: location("env.\(reserved[0])"),
                fix: "remove \(reserved.joined(separator: ", ")) from env"))
        }
        let clusterReserved = cluster.env.keys.filter { reservedVariables.contains($0) }.sorted()
        if let first = clusterReserved.first {
            errors.append(UserError(
                "env of \(FilePaths.lastComponent(of: cluster.file)) sets \(clusterReserved.joined(separator: ", ")), which perfctl sets for every rank",
                at: cluster.source["env.\(first)"]?.description ?? cluster.file,
                fix: "remove \(clusterReserved.joined(separator: ", ")) from env"))
        }
        let vendorReserved = vendor.env.keys.filter { reservedVariables.contains($0) }.sorted()
        if let first = vendorReserved.first {
            errors.append(UserError(
                "env of vendor \(vendor.name) sets \(vendorReserved.joined(separator: ", ")), which perfctl sets for every rank",
                at: vendor.source["env.\(first)"]?.description ?? vendor.file,
                fix: "remove \(vendorReserved.joined(separator: ", ")) from env"))
        }
        return errors
    }

    private static func commonEnvironment(
        cluster: ClusterConfig, case config: CaseConfig, vendor: VendorConfig, settings: CaseSettings,
        preset: String?, peak: Double?, runID: String
    ) -> [String: String] {
        var env = vendor.env
        env.merge(cluster.env) { _, siteValue in siteValue }
        env.merge(settings.env) { _, caseValue in caseValue }
        env["MASTER_ADDR"] = cluster.hosts.first?.address ?? "localhost"
        env["MASTER_PORT"] = String(cluster.masterPort)
        env["NNODES"] = String(settings.nnodes)
        env["NPROC_PER_NODE"] = String(settings.nprocPerNode)
        env["WORLD_SIZE"] = String(settings.nnodes * settings.nprocPerNode)
        env["PERF_RUN_ID"] = runID
        env["PERF_CASE"] = config.name
        env["PERF_HOME"] = cluster.directory
        env["PERF_CASE_DIR"] = config.directory
        if let preset { env["PERF_PRESET"] = preset }
        if let peak { env["PERF_PEAK_FLOPS"] = String(peak) }
        if let variable = vendor.visibleDevicesEnv {
            env[variable] = (0..<settings.nprocPerNode).map(String.init).joined(separator: ",")
        }
        return env
    }
}

/// One metric across the rounds of a case.
public struct MetricResult: Sendable, Equatable, Codable {
    public var name: String
    public var unit: String?
    public var higherIsBetter: Bool?
    public var primary: Bool
    /// The value of every round in order; `nil` where the round did not report it.
    public var perRound: [Double?]
    /// Statistics over the rounds that passed; `nil` when none reported the metric.
    public var statistics: Statistics?

    public init(
        name: String, unit: String?, higherIsBetter: Bool?, primary: Bool, perRound: [Double?],
        statistics: Statistics?
    ) {
        self.name = name
        self.unit = unit
        self.higherIsBetter = higherIsBetter
        self.primary = primary
        self.perRound = perRound
        self.statistics = statistics
    }
}

/// `<case>/result.json`: every numeric FINISHED value across rounds, with statistics.
public struct CaseResult: Sendable, Equatable, Codable {
    public var runID: String
    public var caseName: String
    public var preset: String?
    public var vendor: String
    public var worldSize: Int
    public var roundsPlanned: Int
    public var roundsPassed: Int
    public var roundsFailed: Int
    public var verdict: Verdict
    /// Declared metrics first, in the case's order; then every other numeric FINISHED key, sorted.
    public var metrics: [MetricResult]

    /// Aggregates rounds. Statistics use passed rounds only: a failed round's numbers are not trusted.
    public init(plan: RunPlan, rounds: [RoundResult]) {
        runID = plan.runID
        caseName = plan.caseName
        preset = plan.preset
        vendor = plan.vendor
        worldSize = plan.worldSize
        roundsPlanned = plan.rounds
        roundsPassed = rounds.filter { $0.verdict == .passed }.count
        roundsFailed = rounds.count - roundsPassed
        verdict = roundsPassed == plan.rounds ? .passed : .failed
        let declared = Set(plan.metrics.map(\.name))
        let undeclared = Set(rounds.flatMap(\.values.keys)).subtracting(declared).sorted()
        let specs = plan.metrics + undeclared.map {
            PlannedMetric(MetricSpec(name: $0, higherIsBetter: true))
        }
        metrics = specs.map { spec in
            let isDeclared = declared.contains(spec.name)
            let passedValues = rounds.filter { $0.verdict == .passed }.compactMap { $0.values[spec.name] }
            return MetricResult(
                name: spec.name, unit: spec.unit, higherIsBetter: isDeclared ? spec.higherIsBetter : nil,
                primary: spec.primary, perRound: rounds.map { $0.values[spec.name] },
                statistics: Statistics(passedValues))
        }
    }
}

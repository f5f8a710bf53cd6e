/// Summary statistics of one metric across rounds.
public struct Statistics: Sendable, Equatable, Codable {
    public var count: Int
    public var mean: Double
    public var median: Double
    public var min: Double
    public var max: Double
    /// Sample standard deviation (n − 1); 0 for a single value.
    public var stddev: Double

    /// Relative standard deviation in percent (stddev / |mean|), `nil` when the mean is 0.
    public var relativeStddevPercent: Double? { mean == 0 ? nil : stddev / Swift.abs(mean) * 100 }

    /// Statistics of `values`; `nil` when there are none.
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let n = Double(values.count)
        count = values.count
        mean = values.reduce(0, +) / n
        let middle = sorted.count / 2
        median = sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
        min = sorted[0]
        max = sorted[sorted.count - 1]
        let mean = self.mean
        stddev = values.count > 1
            ? (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot() : 0
    }
}

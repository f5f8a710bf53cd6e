/// Runs one job per host, at most `window` at once, like pdsh's `-f`.
public enum FanOut {
    /// Hosts contacted at once by default (pdsh uses 32, ClusterShell 64).
    public static let defaultWindow = 64

    /// `body` for every item, at most `window` running at once; results in item order.
    static func map<Item: Sendable, Value: Sendable>(
        _ items: [Item], window: Int = defaultWindow, _ body: @escaping @Sendable (Item) async -> Value
    ) async -> [Value] {
        await withTaskGroup(of: (Int, Value).self) { group in
            var results: [Value?] = Array(repeating: nil, count: items.count)
            var next = 0
            func addNext() {
                guard next < items.count else { return }
                let (index, item) = (next, items[next])
                next += 1
                group.addTask { (index, await body(item)) }
            }
            for _ in 0..<max(window, 1) { addNext() }
            for await (index, value) in group {
                results[index] = value
                addNext()
            }
            return results.map { $0! }
        }
    }
}

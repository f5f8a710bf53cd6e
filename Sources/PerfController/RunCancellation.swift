import PerfWire

/// Stops a run from outside (Ctrl-C, SIGTERM): the running round's ranks are stopped on
/// every node (TERM, grace, KILL), its results are kept, and no further round starts.
public actor RunCancellation {
    /// Why the run was cancelled, once it was.
    public private(set) var reason: String?
    private var links: [NodeLink] = []
    private var currentRound: RoundKey?

    public init() {}

    /// Cancels the run; later calls keep the first reason.
    public func cancel(reason: String) async {
        guard self.reason == nil else { return }
        self.reason = reason
        if let currentRound {
            for link in links { await link.cancel(currentRound, reason: reason) }
        }
    }

    func attach(_ links: [NodeLink]) { self.links = links }

    func roundStarted(_ key: RoundKey) async {
        currentRound = key
        if let reason {
            for link in links { await link.cancel(key, reason: reason) }
        }
    }

    func roundEnded() { currentRound = nil }
}

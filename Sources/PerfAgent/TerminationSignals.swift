import Dispatch
import Glibc
import PerfCore

/// SIGTERM and SIGINT as events the daemon handles (stop rounds, clean up)
/// instead of the default sudden exit.
enum TerminationSignals {
    /// Calls `handler` with the signal's name on each SIGTERM or SIGINT, for as
    /// long as the returned sources are kept. Children get the default actions back
    /// (swift-subprocess resets every signal in the child before exec).
    static func watch(_ handler: @escaping @Sendable (String) -> Void) -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(RankExit.signalName(number)) }
            source.resume()
            return source
        }
    }
}

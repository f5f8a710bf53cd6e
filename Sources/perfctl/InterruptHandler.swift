import Dispatch
import Foundation
import Glibc
import Synchronization

/// Turns the first SIGINT/SIGTERM into a call of `onInterrupt` (a clean stop); the second one exits at once.
final class InterruptHandler {
    private let sources: [any DispatchSourceSignal]

    init(onInterrupt: @escaping @Sendable (String) -> Void) {
        let interrupted = Flag()
        sources = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")].map { number, name in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if interrupted.testAndSet() { exit(130) }
                onInterrupt(name)
            }
            source.resume()
            return source
        }
    }

    /// Stops handling; the default actions come back.
    func cancel() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// A flag set once, safely from any thread.
private final class Flag: Sendable {
    private let storage = Mutex(false)

    /// Sets the flag and says whether it was already set.
    func testAndSet() -> Bool { storage.withLock { value in defer { value = true }; return value } }
}

import Foundation

/// Wall-clock times as results and logs record them.
public enum Timestamp {
    /// ISO 8601 in UTC with milliseconds, e.g. `2026-11-23T13:00:00.123Z`.
    public static func iso8601(_ date: Date = Date()) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Nanoseconds since 1970 on this host's clock.
    public static func nanosecondsSinceEpoch(_ date: Date = Date()) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1e9).rounded())
    }
}

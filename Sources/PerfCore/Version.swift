/// Version of perfctl and perf-agent (they ship together).
public enum PerfVersion {
    public static let string = "0.1.0"
}

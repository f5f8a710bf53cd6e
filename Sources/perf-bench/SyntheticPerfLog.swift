import Foundation

/// Writes deterministic synthetic training logs for the PerfLog benchmark.
///
/// Chatter lines imitate what DeepSpeed, torchrun, NCCL and Hugging Face print (timestamps,
/// `[INFO]` tags, progress bars with non-ASCII characters, Python dict reprs), 100–200 bytes each.
/// PerfLog lines look like FlagPerf's (`json.dumps` output with full-precision floats), some
/// behind a launcher prefix; one in a thousand is cut short, as a killed rank leaves it.
struct SyntheticPerfLog {
    /// How many of the lines are PerfLog lines.
    enum Density: String, CaseIterable {
        /// One line in a hundred.
        case sparse
        /// Every line.
        case dense
    }

    /// What was written.
    struct Summary {
        var bytes: Int
        var lines: Int
        var perfLogLines: Int
        var truncatedPerfLogLines: Int
    }

    let density: Density
    private var random: SplitMix64
    private var clockMs: Int = 1_763_892_000_000
    private var step = 0

    init(density: Density, seed: UInt64 = 20_261_123) {
        self.density = density
        self.random = SplitMix64(seed: seed)
    }

    /// Writes at least `byteCount` bytes of whole lines to `path`, replacing the file.
    mutating func write(to path: String, byteCount: Int) throws -> Summary {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        defer { try? handle.close() }
        var summary = Summary(bytes: 0, lines: 0, perfLogLines: 0, truncatedPerfLogLines: 0)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(4 << 20)
        while summary.bytes < byteCount {
            let before = buffer.count
            if density == .dense || random.below(100) == 0 {
                let truncated = random.below(1000) == 0
                appendPerfLogLine(to: &buffer, truncated: truncated)
                summary.perfLogLines += 1
                if truncated { summary.truncatedPerfLogLines += 1 }
            } else {
                appendChatterLine(to: &buffer)
            }
            summary.lines += 1
            summary.bytes += buffer.count - before
            if buffer.count >= 4 << 20 {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try handle.write(contentsOf: buffer)
        return summary
    }

    private mutating func timestamp() -> String {
        clockMs += 1 + random.below(40)
        let seconds = clockMs / 1000 % 86_400
        func padded(_ number: Int, _ width: Int) -> String {
            let digits = String(number)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "2026-11-23 \(padded(seconds / 3600, 2)):\(padded(seconds / 60 % 60, 2)):\(padded(seconds % 60, 2)),"
            + padded(clockMs % 1000, 3)
    }

    private mutating func appendChatterLine(to buffer: inout [UInt8]) {
        let rank = random.below(8)
        let line: String
        switch random.below(6) {
        case 0:
            line =
                "\(timestamp()) - INFO - [trainer.py:\(400 + random.below(50))] rank \(rank): step \(step)/100000 "
                + "loss=\(random.unit() * 4) lr=\(random.unit() * 1e-4) grad_norm=\(random.unit()) "
                + "tokens/s=\(random.below(40000))"
        case 1:
            line =
                "[\(timestamp())] [INFO] [comm.py:652:init_distributed] Initializing TorchBackend in DeepSpeed "
                + "with backend nccl, world size \(8 * (1 + random.below(4)))"
        case 2:
            line =
                "[rank\(rank)]:[W1123 \(timestamp()) ProcessGroupNCCL.cpp:4115] Warning: barrier() using device "
                + "under current context. You can specify device_id in init_process_group() to mute this warning."
        case 3:
            let done = random.below(5000)
            line =
                " \(done * 100 / 5000)%|\(String(repeating: "█", count: done * 10 / 5000))▏| \(done)/5000 "
                + "[00:\(10 + random.below(50))<21:11,  \(random.below(9)).\(random.below(100))it/s] "
                + "epoch \(random.below(3)) rank \(rank) samples/s \(random.unit() * 500)"
        case 4:
            line =
                "{'loss': \(random.unit() * 4), 'grad_norm': \(random.unit()), 'learning_rate': "
                + "\(random.unit() * 1e-4), 'epoch': \(random.below(300)).\(random.below(100)), 'step': \(step)}"
        default:
            line =
                "node\(random.below(4)):\(1000 + random.below(9000)):\(1000 + random.below(9000)) [\(rank)] "
                + "NCCL INFO Channel 0\(random.below(8))/02 :    0   1   2   3   4   5   6   7 via P2P/IPC/read"
        }
        buffer.append(contentsOf: line.utf8)
        buffer.append(UInt8(ascii: "\n"))
    }

    private mutating func appendPerfLogLine(to buffer: inout [UInt8], truncated: Bool) {
        step += 1
        let rank = random.below(8)
        let prefix: String
        switch random.below(4) {
        case 0: prefix = ""
        case 1: prefix = "rank\(rank): "
        case 2: prefix = "[rank\(rank)]:"
        default: prefix = "\(timestamp()) rank\(rank): "
        }
        let evaluation = random.below(50) == 0
        let value: String
        if evaluation {
            value =
                #"{"eval_loss": \#(random.unit() * 3), "accuracy": \#(random.unit()), "#
                + #""metrics": {"top1": \#(random.unit()), "top5": \#(random.unit()), "#
                + #""per_class": [\#(random.unit()), \#(random.unit()), null, true]}, "#
                + #""note": "Ev\u00e9nement \"eval\" termin\u00e9 \u2713 ok"}"#
        } else {
            value =
                #"{"step": \#(step), "loss": \#(random.unit() * 4), "lr": \#(random.unit() * 1e-4), "#
                + #""grad_norm": \#(random.unit() * 2), "tokens_per_s": \#(Double(random.below(4_000_000)) / 100)}"#
        }
        clockMs += random.below(40)
        let metadata =
            #"{"file": "run_pretraining.py", "lineno": \#(200 + random.below(100)), "#
            + #""time_ms": \#(clockMs), "rank": \#(rank)}"#
        let event = evaluation ? "EVALUATE" : "STEP_END"
        var line = Array(
            #"\#(prefix)[PerfLog] {"event": "\#(event)", "value": \#(value), "metadata": \#(metadata)}"#.utf8)
        if truncated { line.removeLast(line.count / 3) }
        buffer.append(contentsOf: line)
        buffer.append(UInt8(ascii: "\n"))
    }
}

/// A small deterministic random number generator (SplitMix64), so every run writes the same logs.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound`.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// A number in `0..<1` with 53 random bits, printed at full precision like Python's floats.
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

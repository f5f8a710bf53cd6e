import Foundation

/// Each message travels as `{"type": "<case>", "body": {...}}` in one frame.
private enum EnvelopeKey: String, CodingKey {
    case type, body
}

extension ControllerMessage: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: EnvelopeKey.self)
        switch try container.decode(String.self, forKey: .type) {
        case "hello": self = .hello(try container.decode(ControllerHello.self, forKey: .body))
        case "startRound": self = .startRound(try container.decode(StartRound.self, forKey: .body))
        case "cancelRound": self = .cancelRound(try container.decode(CancelRound.self, forKey: .body))
        case "preflight": self = .preflight(try container.decode(PreflightRequest.self, forKey: .body))
        case "status": self = .status
        case "shutdown": self = .shutdown(try container.decode(ShutdownRequest.self, forKey: .body))
        case "cancelRun": self = .cancelRun(try container.decode(CancelRun.self, forKey: .body))
        case "clockProbe": self = .clockProbe(try container.decode(ClockProbeRequest.self, forKey: .body))
        case "goodbye": self = .goodbye
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "unknown controller message type '\(other)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: EnvelopeKey.self)
        switch self {
        case .hello(let body): try container.encode("hello", forKey: .type); try container.encode(body, forKey: .body)
        case .startRound(let body):
            try container.encode("startRound", forKey: .type); try container.encode(body, forKey: .body)
        case .cancelRound(let body):
            try container.encode("cancelRound", forKey: .type); try container.encode(body, forKey: .body)
        case .preflight(let body):
            try container.encode("preflight", forKey: .type); try container.encode(body, forKey: .body)
        case .status: try container.encode("status", forKey: .type)
        case .shutdown(let body):
            try container.encode("shutdown", forKey: .type); try container.encode(body, forKey: .body)
        case .cancelRun(let body):
            try container.encode("cancelRun", forKey: .type); try container.encode(body, forKey: .body)
        case .clockProbe(let body):
            try container.encode("clockProbe", forKey: .type); try container.encode(body, forKey: .body)
        case .goodbye: try container.encode("goodbye", forKey: .type)
        }
    }
}

extension AgentMessage: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: EnvelopeKey.self)
        switch try container.decode(String.self, forKey: .type) {
        case "hello": self = .hello(try container.decode(AgentHello.self, forKey: .body))
        case "rankStarted": self = .rankStarted(try container.decode(RankStarted.self, forKey: .body))
        case "rankEnded": self = .rankEnded(try container.decode(RankEnded.self, forKey: .body))
        case "logChunk": self = .logChunk(try container.decode(LogChunk.self, forKey: .body))
        case "roundFinished": self = .roundFinished(try container.decode(RoundFinished.self, forKey: .body))
        case "preflightReport": self = .preflightReport(try container.decode(PreflightReport.self, forKey: .body))
        case "status": self = .status(try container.decode(AgentStatus.self, forKey: .body))
        case "shuttingDown": self = .shuttingDown(try container.decode(ShutdownReport.self, forKey: .body))
        case "runCancelled": self = .runCancelled(try container.decode(RunCancelled.self, forKey: .body))
        case "heartbeat": self = .heartbeat(try container.decode(Heartbeat.self, forKey: .body))
        case "clockReply": self = .clockReply(try container.decode(ClockReply.self, forKey: .body))
        case "failure": self = .failure(try container.decode(AgentFailure.self, forKey: .body))
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "unknown agent message type '\(other)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: EnvelopeKey.self)
        switch self {
        case .hello(let body): try container.encode("hello", forKey: .type); try container.encode(body, forKey: .body)
        case .rankStarted(let body):
            try container.encode("rankStarted", forKey: .type); try container.encode(body, forKey: .body)
        case .rankEnded(let body):
            try container.encode("rankEnded", forKey: .type); try container.encode(body, forKey: .body)
        case .logChunk(let body):
            try container.encode("logChunk", forKey: .type); try container.encode(body, forKey: .body)
        case .roundFinished(let body):
            try container.encode("roundFinished", forKey: .type); try container.encode(body, forKey: .body)
        case .preflightReport(let body):
            try container.encode("preflightReport", forKey: .type); try container.encode(body, forKey: .body)
        case .status(let body):
            try container.encode("status", forKey: .type); try container.encode(body, forKey: .body)
        case .shuttingDown(let body):
            try container.encode("shuttingDown", forKey: .type); try container.encode(body, forKey: .body)
        case .runCancelled(let body):
            try container.encode("runCancelled", forKey: .type); try container.encode(body, forKey: .body)
        case .heartbeat(let body):
            try container.encode("heartbeat", forKey: .type); try container.encode(body, forKey: .body)
        case .clockReply(let body):
            try container.encode("clockReply", forKey: .type); try container.encode(body, forKey: .body)
        case .failure(let body):
            try container.encode("failure", forKey: .type); try container.encode(body, forKey: .body)
        }
    }
}

import Crypto
import SystemPackage

/// SHA-256 of files, read in blocks.
public enum FileDigest {
    /// The lowercase hex SHA-256 of the file at `path`.
    public static func sha256Hex(of path: String) throws(UserError) -> String {
        do {
            let fd = try FileDescriptor.open(FilePath(path), .readOnly)
            var hasher = SHA256()
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            try fd.closeAfter {
                while true {
                    let count = try buffer.withUnsafeMutableBytes { try fd.read(into: $0) }
                    if count == 0 { break }
                    hasher.update(data: buffer[0..<count])
                }
            }
            return hex(hasher.finalize())
        } catch {
            throw UserError("cannot read \(path): \(error)", fix: "check that the file exists and is readable")
        }
    }

    /// The lowercase hex SHA-256 of `bytes`.
    public static func sha256Hex(of bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }

    private static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
    }
}

extension ConfigFileRecord {
    /// Records `path` with the SHA-256 of its current bytes.
    public init(hashing path: String) throws(UserError) {
        self.init(path: path, sha256: try FileDigest.sha256Hex(of: path))
    }
}

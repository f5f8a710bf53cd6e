import Crypto
import SystemPackage

extension ConfigFileRecord {
    /// Records `path` with the SHA-256 of its current bytes.
    public init(hashing path: String) throws(UserError) {
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
            let hex = hasher.finalize().map { byte in
                let digits = String(byte, radix: 16)
                return byte < 16 ? "0" + digits : digits
            }.joined()
            self.init(path: path, sha256: hex)
        } catch {
            throw UserError("cannot read \(path): \(error)", fix: "check that the file exists and is readable")
        }
    }
}

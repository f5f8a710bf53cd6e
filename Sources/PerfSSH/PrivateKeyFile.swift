import Foundation

/// What perfctl can tell about a private key file without its passphrase: its type and
/// whether it is encrypted (OpenSSH `openssh-key-v1` and PEM formats).
struct PrivateKeyFile {
    var path: String
    /// `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa` …, or nil when unknown.
    var keyType: String?
    var encrypted: Bool

    var isRSA: Bool { keyType == "ssh-rsa" }

    /// Reads the file; nil when it cannot be read.
    static func read(_ path: String) -> PrivateKeyFile? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        if text.contains("BEGIN RSA PRIVATE KEY") {
            return PrivateKeyFile(path: path, keyType: "ssh-rsa", encrypted: text.contains("ENCRYPTED"))
        }
        if text.contains("BEGIN EC PRIVATE KEY") {
            return PrivateKeyFile(path: path, keyType: "ecdsa", encrypted: text.contains("ENCRYPTED"))
        }
        if text.contains("BEGIN ENCRYPTED PRIVATE KEY") {
            return PrivateKeyFile(path: path, keyType: nil, encrypted: true)
        }
        guard text.contains("BEGIN OPENSSH PRIVATE KEY") else { return PrivateKeyFile(path: path, keyType: nil, encrypted: false) }
        let body = text.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
        guard let data = Data(base64Encoded: body) else { return PrivateKeyFile(path: path, keyType: nil, encrypted: false) }
        var reader = BlobReader(bytes: Array(data))
        guard reader.skipMagic("openssh-key-v1\0"),
              let cipher = reader.string(), reader.string() != nil, reader.string() != nil,
              reader.uint32() != nil, reader.string() != nil
        else { return PrivateKeyFile(path: path, keyType: nil, encrypted: false) }
        // The first public key blob starts with its type name.
        var publicKey = BlobReader(bytes: reader.lastString)
        let type = publicKey.string()
        return PrivateKeyFile(path: path, keyType: type, encrypted: cipher != "none")
    }
}

/// Reads SSH wire-format fields (uint32 length + bytes).
struct BlobReader {
    var bytes: [UInt8]
    var offset = 0
    private(set) var lastString: [UInt8] = []

    mutating func skipMagic(_ magic: String) -> Bool {
        let expected = Array(magic.utf8)
        guard bytes.count >= expected.count, Array(bytes[0..<expected.count]) == expected else { return false }
        offset = expected.count
        return true
    }

    mutating func uint32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        let value = bytes[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        offset += 4
        return value
    }

    mutating func string() -> String? {
        guard let length = uint32().map(Int.init), offset + length <= bytes.count else { return nil }
        lastString = Array(bytes[offset..<offset + length])
        offset += length
        return String(decoding: lastString, as: UTF8.self)
    }
}

/// Which characters a name may hold.
struct CharacterPattern: Sendable {
    let matches: @Sendable (String) -> Bool

    /// Letters, digits, `.`, `_`, `-`; not `.` or `..` (names become directory names).
    static let fileName = CharacterPattern { name in
        !name.isEmpty && name != "." && name != ".."
            && name.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || "._-".unicodeScalars.contains($0) }
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`
    static let environmentName = CharacterPattern { name in
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "_" }
    }

    /// `[A-Z_][A-Z0-9_]*`
    static let upperCaseEnvironmentName = CharacterPattern { name in
        environmentName.matches(name) && !name.unicodeScalars.contains { ("a"..."z").contains($0) }
    }

    /// Letters, digits, `.`, `_`, `-`, `:` and `%` (IPv6 addresses and their zones).
    static let hostAddress = CharacterPattern { address in
        !address.isEmpty
            && address.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || "._-:%".unicodeScalars.contains($0) }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIIAlphanumeric: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
    }
}

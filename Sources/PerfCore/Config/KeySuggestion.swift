/// "Did you mean …?" for a misspelt key or value.
enum KeySuggestion {
    /// The candidate closest to `word`, if one is close enough to be a likely typo: the same word up to
    /// case and `-`/`_`, a prefix or part of it, or a few edits away.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let normalized = normalize(word)
        guard !normalized.isEmpty else { return nil }
        if let same = candidates.first(where: { normalize($0) == normalized }) { return same }
        let scored = candidates.map { ($0, editDistance(normalized, normalize($0))) }
        if let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(1, min(3, normalized.count / 3)) {
            return best.0
        }
        guard normalized.count >= 4 else { return nil }
        return candidates.first { normalize($0).contains(normalized) || normalized.contains(normalize($0)) }
    }

    /// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`: optimal string alignment distance.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in stride(from: 1, through: a.count, by: 1) {
            for j in stride(from: 1, through: b.count, by: 1) {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }

    private static func normalize(_ word: String) -> String {
        word.lowercased().replacingOccurrences(of: "-", with: "_")
    }
}

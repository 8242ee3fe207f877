/// How the gates' per-key tables stay within `max_keys` (shared by `count:`, `throttle:` and `after:`).
enum KeyEviction {
    /// Makes room for one more key in `table`, which holds `maxKeys`: first drops the entries
    /// `isLive` rejects (they can no longer fire), then, if still full, the least recently seen
    /// tenth (at least enough for one more). Returns how many were evicted by the second step.
    static func makeRoom<Entry>(
        in table: inout [String: Entry], maxKeys: Int, isLive: (Entry) -> Bool, lastSeen: (Entry) -> UInt64
    ) -> Int {
        table = table.filter { isLive($0.value) }
        guard table.count >= maxKeys else { return 0 }
        let victims = max(table.count - maxKeys + 1, maxKeys / 10)
        let oldest = table.sorted { lastSeen($0.value) < lastSeen($1.value) }.prefix(victims).map(\.key)
        for key in oldest { table.removeValue(forKey: key) }
        return oldest.count
    }
}

import Glibc

/// CPU time the hypervisor gave to other guests (`steal` in /proc/stat) while a benchmark ran:
/// on a shared host it explains runs that are slower for no reason of their own.
struct CPUSteal {
    private let steal: Double
    private let total: Double

    /// The counters now.
    init() {
        var steal = 0.0
        var total = 0.0
        if let file = fopen("/proc/stat", "r") {
            defer { fclose(file) }
            var line = [CChar](repeating: 0, count: 512)
            if fgets(&line, Int32(line.count), file) != nil {
                // cpu  user nice system idle iowait irq softirq steal guest guest_nice
                let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ").dropFirst().compactMap { Double($0) }
                total = fields.prefix(8).reduce(0, +)
                steal = fields.count > 7 ? fields[7] : 0
            }
        }
        self.steal = steal
        self.total = total
    }

    /// The share of CPU time stolen between `start` and now, in percent.
    static func percent(since start: CPUSteal) -> Double {
        let now = CPUSteal()
        let total = now.total - start.total
        return total > 0 ? (now.steal - start.steal) / total * 100 : 0
    }
}

/// One measured number, as written to `.bench/results.json`.
struct BenchmarkResult {
    let benchmark: String
    let metric: String
    let value: Double
    let unit: String

    var json: String {
        #"{"benchmark": "\#(benchmark)", "metric": "\#(metric)", "value": \#(value.isFinite ? String(value) : "null"), "unit": "\#(unit)"}"#
    }
}

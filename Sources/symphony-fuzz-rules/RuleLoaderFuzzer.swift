import SymphonyRules

/// libFuzzer entry point for the rule loader: any bytes, as a rule file, must load or be refused with diagnostics — never crash or hang.
/// Built and run by `make fuzz` (`swift build --sanitize=fuzzer`); libFuzzer provides `main`.
@_cdecl("LLVMFuzzerTestOneInput")
public func ruleLoaderFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    _ = RuleSetLoader.load(documents: [(file: "fuzz.yaml", text: text)])
    return 0
}

#if !FUZZING
    /// Without libFuzzer (a normal `swift build`), the target is a stub that says how to fuzz.
    @main
    enum FuzzerStub {
        static func main() {
            print("This is a libFuzzer target; run 'make fuzz' (swift build --sanitize=fuzzer -Xswiftc -DFUZZING).")
        }
    }
#endif

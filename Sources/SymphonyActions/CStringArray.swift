import Glibc

/// A NULL-terminated array of C strings copied from Swift strings, as argv and envp; `free()` releases it.
struct CStringArray {
    /// The array, ending with a null pointer.
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    /// Copies `strings` (which must not contain NUL bytes); nil when memory ran out.
    init?(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: count + 1)
        pointers.initialize(repeating: nil, count: count + 1)
        for (index, string) in strings.enumerated() {
            pointers[index] = strdup(string)
        }
        if (0..<count).contains(where: { pointers[$0] == nil }) {
            free()
            return nil
        }
    }

    /// Frees the strings and the array.
    func free() {
        for index in 0..<count { Glibc.free(pointers[index]) }
        pointers.deallocate()
    }
}

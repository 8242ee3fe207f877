import Glibc

/// The number of processors this process may run on, without importing Foundation.
enum ProcessorInfoLite {
    static var activeProcessorCount: Int {
        Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}

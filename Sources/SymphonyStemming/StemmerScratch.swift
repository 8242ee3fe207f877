import CStemmer
import SymphonyHashing
import Glibc

/// One thread's libstemmer objects, one per language used on that thread.
///
/// libstemmer's stemmers keep their working buffer inside the object, so one must never be used
/// by two threads at once; this keeps them in a pthread thread-specific slot, freed when the
/// thread exits.
final class StemmerScratch {
    /// The most words whose stems one thread remembers per language before it starts over.
    static let memoLimit = 8_192
    /// The longest word (in bytes) whose stem is remembered.
    static let longestRemembered = 64

    // Unchecked exclusivity: a scratch belongs to one thread (the runtime's dynamic check cost
    // a begin and an end call per text stemmed).
    @exclusivity(unchecked) private var stemmers: [OpaquePointer?] = []
    /// Per language, stems already computed on this thread: texts repeat their words, and a
    /// dictionary probe costs a fraction of a Snowball run.
    @exclusivity(unchecked) private var memos: [[ByteStringKey: String]] = []

    deinit {
        for stemmer in stemmers { sb_stemmer_delete(stemmer) }
    }

    /// This thread's scratch.
    static var current: StemmerScratch {
        if let stored = pthread_getspecific(scratchKey) {
            return Unmanaged<StemmerScratch>.fromOpaque(stored).takeUnretainedValue()
        }
        let scratch = StemmerScratch()
        pthread_setspecific(scratchKey, Unmanaged.passRetained(scratch).toOpaque())
        return scratch
    }

    /// The stem of `word` in `language`; `word` itself when libstemmer fails (out of memory).
    func stem(_ word: String, language: Stemmer) -> String {
        growMemos(to: language)
        return stem(word, language: language, memo: &memos[language.index])
    }

    /// The stems of `words` in `language`, in order (each as `stem` gives it).
    func stems(_ words: [String], language: Stemmer) -> [String] {
        growMemos(to: language)
        // The language's memo is taken out for the loop and put back after: this leaves it the
        // only reference to its storage (no copy on insert), reached once rather than per word.
        var memo = memos[language.index]
        memos[language.index] = [:]
        defer { memos[language.index] = memo }
        return words.map { stem($0, language: language, memo: &memo) }
    }

    private func growMemos(to language: Stemmer) {
        if memos.count <= language.index { memos += Array(repeating: [:], count: language.index + 1 - memos.count) }
    }

    /// The stem of `word`, from `memo` or computed (and then remembered).
    private func stem(_ word: String, language: Stemmer, memo: inout [ByteStringKey: String]) -> String {
        // Remembered by their bytes, which Snowball reads (canonically equivalent spellings may
        // stem differently); a long token is not remembered, nor kept alive.
        guard word.utf8.count <= Self.longestRemembered else { return computeStem(word, language: language) }
        let key = ByteStringKey(word)
        if let known = memo[key] { return known }
        let stem = computeStem(word, language: language)
        if memo.count >= Self.memoLimit { memo.removeAll(keepingCapacity: true) }
        memo[key] = stem
        return stem
    }

    /// The stem of `word` from libstemmer.
    private func computeStem(_ word: String, language: Stemmer) -> String {
        if stemmers.count <= language.index { stemmers += Array(repeating: nil, count: language.index + 1 - stemmers.count) }
        if stemmers[language.index] == nil { stemmers[language.index] = sb_stemmer_new(language.language, nil) }
        guard let stemmer = stemmers[language.index] else { return word }
        var word = word
        return word.withUTF8 { bytes -> String? in
            guard let base = bytes.baseAddress, let result = sb_stemmer_stem(stemmer, base, Int32(bytes.count)) else { return nil }
            let length = Int(sb_stemmer_length(stemmer))
            // Most words are their own stem: keep the original string instead of a copy.
            if length == bytes.count && memcmp(result, base, length) == 0 { return nil }
            return String(decoding: UnsafeBufferPointer(start: result, count: length), as: UTF8.self)
        } ?? word
    }
}

/// The thread-specific slot holding each thread's `StemmerScratch`, released when the thread exits.
private let scratchKey: pthread_key_t = {
    var key = pthread_key_t()
    let result = pthread_key_create(&key) { pointer in
        guard let pointer else { return }
        Unmanaged<StemmerScratch>.fromOpaque(pointer).release()
    }
    precondition(result == 0, "pthread_key_create failed")
    return key
}()

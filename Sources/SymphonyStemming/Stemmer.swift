import CStemmer
import Glibc

/// A Snowball stemmer (libstemmer): reduces a lowercase word to its stem, so that inflected forms
/// of a word share one (`cancelled`, `cancels`, `cancelling` → `cancel`).
///
/// A value names a language; stemming is safe from any number of threads at once, because each
/// thread stems with its own libstemmer objects (`StemmerScratch`), created on first use.
public struct Stemmer: Sendable, Hashable {
    /// The Snowball algorithm's name, e.g. `english`.
    public let language: String
    /// The algorithm's position in `languages`, which indexes each thread's stemmers.
    let index: Int

    /// The languages libstemmer provides (its canonical algorithm names), in its order.
    public static let languages: [String] = {
        var names: [String] = []
        guard var entry = sb_stemmer_list() else { return names }
        while let name = entry.pointee {
            names.append(String(cString: name))
            entry += 1
        }
        return names
    }()

    /// The stemmer for `language` (a name from `languages`), or nil when libstemmer has none.
    public init?(language: String) {
        guard let index = Self.languages.firstIndex(of: language) else { return nil }
        self.language = language
        self.index = index
    }

    /// The stem of `word` (expected lowercase, as `TextTokenizer` makes tokens).
    public func stem(_ word: String) -> String {
        StemmerScratch.current.stem(word, language: self)
    }

    /// The stems of `words`, in order: one thread-local lookup for all of them.
    public func stems(_ words: [String]) -> [String] {
        StemmerScratch.current.stems(words, language: self)
    }
}

import SymphonyEvents
import Testing

@Suite struct TypeLookupCacheTests {
    @Test("a type's value is made once, then served from the cache; removeAll forgets it")
    func makesOnce() {
        var cache = TypeLookupCache<Int>()
        var made = 0
        #expect(cache.value(for: "a.b") { made += 1; return 7 } == 7)
        #expect(cache.value(for: "a.b") { made += 1; return 8 } == 7)
        #expect(made == 1)
        cache.removeAll()
        #expect(cache.cached("a.b") == nil)
        #expect(cache.value(for: "a.b") { made += 1; return 9 } == 9)
    }

    @Test("past its limit the cache starts over instead of growing")
    func bounded() {
        var cache = TypeLookupCache<Int>()
        for index in 0..<TypeLookupCache<Int>.limit { cache.store(index, for: "t\(index)") }
        #expect(cache.cached("t0") == 0)
        cache.store(-1, for: "one.more")
        #expect(cache.cached("t0") == nil)
        #expect(cache.cached("one.more") == -1)
    }
}

import SymphonyJSON
import SymphonyEngine
import SymphonyEvents
import Testing

@Suite struct EventJSONTests {
    @Test("the direct writer prints exactly what the JSON object prints", arguments: [
        Event(type: "a", id: "e-1", time: Timestamp(nanosecondsSinceEpoch: 1)),
        Event(
            type: "alert.page", payload: ["area": "checkout", "n": 3, "nested": ["q": "say \"hi\"\n"]], priority: 0, id: "e-2", source: "rule:x",
            time: Timestamp(nanosecondsSinceEpoch: 1_700_000_000_123_456_789), causation: Causation(parentID: "p-1", rule: "checkout-down", hop: 2)),
        Event(type: "t.é", payload: ["text": "東京 \u{2028}"], priority: 9, id: "id \"quoted\"", time: Timestamp(nanosecondsSinceEpoch: -5)),
    ])
    func sameAsObject(event: Event) throws {
        let text = EventJSON.text(event)
        #expect(text == EventJSON.object(event).jsonText)
        #expect(try JSONParser.parse(Array(text.utf8)) == EventJSON.object(event))
    }
}

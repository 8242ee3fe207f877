import SymphonyJSON
import SymphonyEvents
import Testing

@Suite struct JSONSerializationTests {
    @Test("strings are escaped per RFC 8259 (and U+2028/U+2029), everything else is copied as is", arguments: [
        ("plain text", #""plain text""#),
        ("say \"hi\"", #""say \"hi\"""#),
        (#"C:\temp"#, #""C:\\temp""#),
        ("line\nbreak\r\ttab", #""line\nbreak\r\ttab""#),
        ("bell\u{07}nul\u{00}", #""bell\u0007nul\u0000""#),
        ("sep\u{2028}para\u{2029}", #""sep\u2028para\u2029""#),
        ("élodie 東京 🎵", #""élodie 東京 🎵""#),
        ("\u{2027}\u{202A}", "\"\u{2027}\u{202A}\""),
        ("", #""""#),
    ])
    func escaping(text: String, expected: String) {
        #expect(JSONValue.string(text).jsonText == expected)
    }

    @Test("objects print with sorted keys; what is printed parses back to the same value")
    func roundTrip() throws {
        let value: JSONValue = [
            "zeta": 1, "alpha": ["b": "x\"y", "a": [true, false, nil, 2.5, -3]], "mid": "line\n\u{2028}é",
        ]
        let text = value.jsonText
        #expect(text.hasPrefix(#"{"alpha":{"a":[true,false,null,2.5,-3],"b":"x\"y"},"mid":"#))
        #expect(try JSONParser.parse(Array(text.utf8)) == value)
    }
}

import ArgumentParser
import SymphonyEvents
import SymphonyPipeline

/// `--json TYPE` and `--type-from FIELD`: reading JSON application logs, whose lines have no `type`.
struct PlainJSONOptions: ParsableArguments {
    @Option(name: .customLong("json"), help: ArgumentHelp("Read JSON lines that have no 'type' (application logs): each line's object is the payload of an event of this type.", valueName: "TYPE"))
    var type: String?

    @Option(name: .customLong("type-from"), help: ArgumentHelp("Read JSON lines that have no 'type': each line's object is the payload of an event whose type is this top-level string field's value.", valueName: "FIELD"))
    var field: String?

    /// How JSON lines are read: as events (nil), or as log records.
    var mode: PlainJSONLines? {
        if let type { return .type(type) }
        return field.map(PlainJSONLines.typeField)
    }

    /// Refuses contradictory options and a type that is not one.
    func check(lines: String?) throws {
        if type != nil && field != nil { throw ValidationError("--json and --type-from contradict each other: give one.") }
        if lines != nil && mode != nil { throw ValidationError("--lines reads raw text and \(type != nil ? "--json" : "--type-from") reads JSON: give one.") }
        if let type {
            do { try EventType.validate(type) } catch let error as EventsError { throw ValidationError("--json: \(error.message)") }
        }
        if let field, field.isEmpty { throw ValidationError("--type-from needs a field name.") }
    }
}

/// One JSON object on one line, its fields in the order given: what `pull` and `push` print last.
struct SummaryLine {
    private var fields: [String] = []

    mutating func add(_ name: String, _ value: String?) {
        fields.append(Self.quoted(name) + ":" + (value.map(Self.quoted) ?? "null"))
    }

    mutating func add(_ name: String, _ value: some BinaryInteger) {
        fields.append(Self.quoted(name) + ":" + String(value))
    }

    mutating func add(_ name: String, seconds: Double) {
        let milliseconds = Int((seconds * 1000).rounded())
        let fraction = String(milliseconds % 1000)
        fields.append(
            Self.quoted(name) + ":" + String(milliseconds / 1000) + "."
                + String(repeating: "0", count: 3 - fraction.count) + fraction)
    }

    var text: String { "{" + fields.joined(separator: ",") + "}" }

    private static func quoted(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                let hex = String(scalar.value, radix: 16)
                quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}

/// An entry's name as it may be shown: valid UTF-8 as it is, control characters and backslashes
/// as `\xNN`; a name that is not UTF-8 with every byte outside printable ASCII as `\xNN`; at most
/// 200 bytes. Error messages and logs use it, never the raw bytes.
public func displayName(_ name: some Collection<UInt8>) -> String {
    let bytes = Array(name.prefix(200))
    let suffix = name.count > 200 ? "…" : ""
    func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "\\x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xf)])
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        return bytes.map { (0x20..<0x7f).contains($0) && $0 != 0x5c ? String(UnicodeScalar($0)) : hex($0) }.joined()
            + suffix
    }
    var shown = ""
    for scalar in text.unicodeScalars {
        if scalar.value < 0x20 || scalar.value == 0x7f || scalar == "\\" {
            shown += hex(UInt8(scalar.value))
        } else {
            shown.unicodeScalars.append(scalar)
        }
    }
    return shown + suffix
}

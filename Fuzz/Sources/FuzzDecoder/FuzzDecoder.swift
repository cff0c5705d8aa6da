import CodePipeline

/// Feeds arbitrary bytes to the upstream response decoder. It must return a `JobDetails` or throw
/// a `CodePipelineError`, never crash, never put a byte of the input into an error message
/// except the schema path, and never decode a configuration value it was not asked for by name.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let details = try JobDetails.decode(bytes, revealing: ["Shown"])
        _ = "\(details)"
        precondition(details.configurationValues.keys.allSatisfy { $0 == "Shown" }, "a value not asked for")
    } catch {
        let message = "\(error)"
        precondition(!message.contains("FUZZ-CANARY"), "an error message echoed the input: \(message)")
    }
    return 0
}

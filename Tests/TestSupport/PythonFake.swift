import Foundation

/// A fake of the test tree (IntegrationTests/fake_aws.py, fake_kube.py) run with `.venv`'s
/// Python: started with a fresh state directory, it prints one JSON line once it listens and
/// stops by itself when this process ends (its standard input closes), so nothing waits on it.
public enum PythonFake {
    /// Starts `IntegrationTests/SCRIPT`; the process and its first line, decoded as `Listening`.
    public static func start<Listening: Decodable>(
        _ script: String, as type: Listening.Type
    ) throws -> (Process, Listening) {
        let python = PythonClients.python
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw Failure("no .venv: run `make test`, which creates it")
        }
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("\(script)-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = python
        process.arguments = [
            Fixtures.root.appendingPathComponent("IntegrationTests/\(script)").path, "--state-dir", stateDir.path,
            "--exit-on-stdin-eof",
        ]
        process.standardInput = Pipe()
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw Failure("\(script) exited before listening") }
            line.append(chunk)
        }
        return (process, try JSONDecoder().decode(type, from: line))
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }
}

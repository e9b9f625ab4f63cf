import SuperBotTesting
import SystemKit
import Testing

/// Every seed input and every crash `make fuzz` ever found, replayed through the same targets on
/// the ordinary build: a crash fixed once stays fixed.
struct FuzzRegressionTests {
    static let root = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/"))

    @Test(arguments: ["yaml", "json", "rpc", "http-request", "http-response", "csv", "cron", "tzif", "resp"])
    func savedInputsReplayWithoutAFailure(_ target: String) throws {
        let base = "/" + Self.root + "/Tests/fuzz"
        let seeds = FileSystem.listDirectory(base + "/corpus/" + target).map { base + "/corpus/\(target)/" + $0 }
        let crashes = FileSystem.listDirectory(base + "/crashes").filter { $0.hasPrefix(target + "-") }
            .map { base + "/crashes/" + $0 }
        #expect(!seeds.isEmpty)
        let dir = temporaryDirectory("fuzz")
        defer { removeTree(dir) }
        let out = dir + "/out"
        let code = Harness.run(Harness.binary("superbot-fuzz"), [target] + seeds + crashes, cwd: "/tmp", output: out)
        let text = (try? FileSystem.readString(out)) ?? ""
        #expect(code == 0, "\(text)")
        #expect(text.contains("\(seeds.count + crashes.count) inputs, no failure"), "\(text)")
    }
}

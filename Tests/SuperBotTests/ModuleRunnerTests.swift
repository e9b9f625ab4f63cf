import Glibc
import SuperBotConfig
import SuperBotLog
import Supervision
import SystemKit
import Testing

@testable import SuperBotDaemon

/// A `ModuleRunner` on its own, against a made-up context instead of a daemon.
@Suite struct ModuleRunnerTests {
    final class FakeContext: ModuleRunnerContext {
        let loop: EventLoop
        let logger = Logger(label: "test", sinks: [])
        var moduleSettings: ModuleSettings
        var isShuttingDown = false
        var stopped: Set<String> = []
        var notices: [ModuleLifecycle.Notice] = []
        var counted: [ModuleRunner.CountedEvent] = []

        init(settings: ModuleSettings) throws {
            loop = try EventLoop()
            moduleSettings = settings
        }

        func isOperatorStopped(_ module: String) -> Bool { stopped.contains(module) }
        func count(_ event: ModuleRunner.CountedEvent) { counted.append(event) }
        func runner(_ runner: ModuleRunner, noticed notice: ModuleLifecycle.Notice) { notices.append(notice) }
        func runnerChanged(_ runner: ModuleRunner) {}
        func processSnapshot() -> ProcessSnapshot { ProcessSnapshot.take(runID: moduleSettings.runID) }
    }

    func context() throws -> FakeContext {
        let config = try DaemonConfig.parse(
            "daemon:\n  modules: {}\n", file: "/srv/bot/config/daemon.yaml", baseDirectory: "/srv/bot")
        return try FakeContext(
            settings: ModuleSettings(
                baseDirectory: "/srv/bot", runDirectory: "/srv/bot/.superbot",
                socketPath: "/srv/bot/.superbot/superbot.sock",
                logDirectory: "/srv/bot/logs", configFile: "/srv/bot/config/daemon.yaml", authToken: "s3cret",
                watchdog: config.watchdog, runID: "0123456789abcdef"))
    }

    func spec(_ yaml: String) throws -> ModuleSpec {
        let config = try DaemonConfig.parse(
            "daemon:\n  modules:\n    worker:\n" + yaml, file: "daemon.yaml", baseDirectory: "/srv/bot")
        return try #require(config.module("worker"))
    }

    @Test func theSpawnRequestComesFromTheSpecAndTheContextsSettings() throws {
        let context = try context()
        let runner = ModuleRunner(
            spec: try spec(
                "      command: /bin/echo\n      args: [hi]\n      env: {SUPERBOT_MODULE: forged, EXTRA: \"1\"}\n"),
            context: context)
        let request = try runner.spawnRequest()
        #expect(request.executable == "/bin/echo")
        #expect(request.arguments == ["/bin/echo", "hi"])
        #expect(request.environment.contains("SUPERBOT_SOCKET=/srv/bot/.superbot/superbot.sock"))
        #expect(request.environment.contains("SUPERBOT_LOG_DIR=/srv/bot/logs"))
        #expect(request.environment.contains("SUPERBOT_CONFIG_DIR=/srv/bot/config"))
        #expect(request.environment.contains("SUPERBOT_TOKEN=s3cret"))
        #expect(request.environment.contains("EXTRA=1"))
        // A spec's env wins over inherited variables, but not over the module marker.
        #expect(request.environment.filter { $0.hasPrefix("SUPERBOT_MODULE=") } == ["SUPERBOT_MODULE=worker"])
        #expect(request.environment.contains("SUPERBOT_RUN_ID=0123456789abcdef"))
        #expect(runner.pidFilePath == "/srv/bot/.superbot/worker.pid")
        #expect(runner.statusJSON(detailed: true)["operator_stopped"]?.boolValue == false)
        context.stopped = ["worker"]
        #expect(runner.statusJSON(detailed: true)["operator_stopped"]?.boolValue == true)
    }

    @Test func aMissingExecutableIsFatalAndCountedNotRetried() throws {
        let context = try context()
        let runner = ModuleRunner(spec: try spec("      command: ./no-such-program\n"), context: context)
        runner.start()
        #expect(runner.state == .fatal)
        #expect(context.counted.count == 1)
        #expect(
            context.notices.contains {
                if case .failed(let why) = $0 { return why.contains("no-such-program") }
                return false
            })
    }

    @Test func noProcessStartsDuringAShutdown() throws {
        let context = try context()
        context.isShuttingDown = true
        let runner = ModuleRunner(spec: try spec("      command: /bin/true\n"), context: context)
        runner.start()
        #expect(runner.pid == nil)
        #expect(runner.state == .stopped)
        #expect(context.counted.isEmpty)
    }
}

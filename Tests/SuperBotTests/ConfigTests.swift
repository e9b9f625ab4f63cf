import Glibc
import JSON
import SystemKit
import Testing

@testable import SuperBotConfig

@Suite struct ConfigTests {
    func load(_ text: String) throws -> DaemonConfig {
        try DaemonConfig.parse(text, file: "config/daemon.yaml", baseDirectory: "/base")
    }

    func error(_ text: String) -> ConfigError? {
        do {
            _ = try load(text)
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            return nil
        }
    }

    let seed = """
        daemon:
          modules:
            webui:
              enabled: true
              type: executable
              command: webui
              args: ["--port", "8080"]
              host: "127.0.0.1"
              port: 8080
              healthcheck_endpoint: "/health"
            trading:
              enabled: true
              command: trading-engine
              args: ["--mode", "paper"]
              depends_on: [exchange-sim]
            exchange-sim:
              command: exchange-sim
              stop_signal: INT
              max_rss_mb: 512
          autostart: [exchange-sim, trading, webui]
          ipc:
            socket_path: ".superbot/superbot.sock"
            auth_token: null
          watchdog:
            enabled: true
            check_interval: 30
            auto_restart_on_crash: true
            max_restart_attempts: 3
            restart_cooldown: 60
            alert_on_restart: true
        """

    @Test func seedShapeLoadsWithDefaults() throws {
        let c = try load(seed)
        #expect(c.modules.map(\.name) == ["webui", "trading", "exchange-sim"])
        let web = try #require(c.module("webui"))
        #expect(
            web.httpCheck
                == .init(host: "127.0.0.1", port: 8080, path: "/health", timeout: 5, interval: 10, failures: 3))
        #expect(
            web.restartDelay == 0.5 && web.restartCooldown == 60 && web.maxRestartAttempts == 3 && web.stopTimeout == 10
        )
        #expect(web.logFile == "logs/webui.log")
        #expect(c.module("exchange-sim")?.stopSignal == 2)
        #expect(c.module("exchange-sim")?.maxRSSMB == 512)
        #expect(c.ipc.authToken == nil && c.ipc.maxMessageBytes == 1 << 20)
        #expect(c.get("watchdog.check_interval") == 30)
        #expect(c.get("daemon.modules.webui.args.1") == "8080")
        #expect(c.get("nope.nothing") == nil)
        #expect(DependencyGraph(c.modules).startOrder() == ["webui", "exchange-sim", "trading"])
    }

    @Test func unknownKeyGetsASuggestionAndPosition() throws {
        let e = try #require(error("daemon:\n  watchdog:\n    check_intervall: 5\n"))
        #expect(e.line == 3 && e.column == 5)
        #expect(e.message.contains("did you mean 'check_interval'"))
        #expect(e.description.hasPrefix("config/daemon.yaml:3:5: "))
    }

    @Test(
        arguments: [
            (
                "daemon:\n  modules:\n    a: {command: x, depends_on: [b]}\n    b: {command: y, depends_on: [a]}\n",
                "dependency cycle: a → b → a"
            ),
            ("daemon:\n  modules:\n    a: {command: x, depends_on: [zz]}\n", "depends on unknown module 'zz'"),
            ("daemon:\n  modules:\n    a: {command: x}\n  autostart: [b]\n", "unknown module 'b'"),
            ("daemon:\n  modules:\n    a: {args: [x]}\n", "needs a 'command'"),
            ("daemon:\n  modules:\n    a: {command: x, stop_timeout: -1}\n", "stop_timeout"),
            ("daemon:\n  modules:\n    a: {command: x, stop_signal: NOPE}\n", "signal name"),
            (
                "daemon:\n  modules:\n    a: {command: x, restart: sometimes}\n",
                "must be one of always, on-failure, never"
            ),
            ("daemon:\n  modules:\n    a: {command: x, port: 70000}\n", "between 1 and 65535"),
            ("daemon:\n  modules:\n    a: {command: x, enabled: maybe}\n", "true or false"),
            ("daemon:\n  modules:\n    'bad name': {command: x}\n", "letters, digits"),
            ("daemon:\n  ipc:\n    tcp: {enabled: true}\n", "refuses to start without a token"),
            ("daemon:\n  ipc:\n    auth_token: s3cret\n    tcp: {enabled: true, host: 0.0.0.0}\n", "loopback only"),
            ("daemon:\n  modules:\n    a: {command: x, healthcheck_endpoint: /health}\n", "needs 'port'"),
            ("daemon:\n  modules:\n    a: {command: x, typo_key: 1}\n", "unknown key 'typo_key'"),
            ("modules: {}\n", "unknown key 'modules'"),
            ("daemon:\n  modules: [a, b]\n", "mapping of module names"),
            ("daemon: &x\n  modules: {}\n", "anchors"),
        ] as [(String, String)])
    func invalidConfigsExplainThemselves(_ text: String, _ fragment: String) {
        guard let e = error(text) else {
            Issue.record("accepted: \(text)")
            return
        }
        #expect(e.message.contains(fragment), "\(e)")
        #expect(e.line > 0, "\(e)")
    }

    @Test func healthcheckBlockAndOverrides() throws {
        let c = try load(
            """
            daemon:
              modules:
                a:
                  command: x
                  port: 9000
                  healthcheck: {http: {path: /ready, interval: 2, failures: 5, timeout: 0.5}}
                  restart: on-failure
                  restart_delay: 0
                  env: {A: "1", B: two}
              watchdog: {max_restart_attempts: 7, restart_window: 30}
            """)
        let a = try #require(c.module("a"))
        #expect(
            a.httpCheck == .init(host: "127.0.0.1", port: 9000, path: "/ready", timeout: 0.5, interval: 2, failures: 5))
        #expect(a.restart == .onFailure && a.restartDelay == 0 && a.maxRestartAttempts == 7 && a.restartWindow == 30)
        #expect(a.env == ["A": "1", "B": "two"])
    }

    @Test func aByteOrderMarkIsAcceptedAndAMissingFileSaysNotFound() throws {
        let dir = "/tmp/sbconfig-\(getpid())"
        try FileSystem.makeDirectories(dir)
        defer {
            unlink(dir + "/daemon.yaml")
            rmdir(dir)
        }
        do {
            _ = try DaemonConfig.load(path: dir)
            Issue.record("a missing file was accepted")
        } catch let error as ConfigError {
            #expect(
                error.description
                    == "\(dir)/daemon.yaml: not found; create it, or point --config at the directory that holds daemon.yaml"
            )
        }
        try FileSystem.writeAtomically(
            dir + "/daemon.yaml", [0xEF, 0xBB, 0xBF] + Array("daemon:\n  autostart: []\n".utf8))
        #expect(try DaemonConfig.load(path: dir).autostart == [])
        #expect(throws: Never.self) {
            try DaemonConfig.parse("\u{FEFF}daemon: {}\n", file: "d.yaml", baseDirectory: "/")
        }
    }

    @Test func watchdogRestartAttemptsHaveTheModulesRange() {
        #expect {
            try DaemonConfig.parse(
                "daemon:\n  watchdog: {max_restart_attempts: 20000}\n", file: "d.yaml", baseDirectory: "/")
        } throws: { "\($0)".contains("must be between 0 and 10000") }
    }

    @Test func suggestions() {
        #expect(suggestion(for: "autostrat", in: ["autostart", "modules"]) == "autostart")
        #expect(suggestion(for: "zzzzzz", in: ["autostart", "modules"]) == nil)
    }
}

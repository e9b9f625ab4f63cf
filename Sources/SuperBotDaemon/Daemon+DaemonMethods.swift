import Glibc
import JSON
import RPC
import SuperBotConfig
import Supervision
import SystemKit

/// `daemon.*`: the daemon's own status, stop and reload.
extension Daemon {
    var daemonMethods: MethodNamespace {
        MethodNamespace("daemon", ["status", "stop", "reload_config"], duringShutdown: ["status", "stop"]) {
            [unowned self] request, connection, reply in
            switch request.method {
            case "daemon.status": reply(.success(daemonStatus()))
            case "daemon.stop":
                reply(.success(["stopping": true]))
                stopRequesters.append(connection)
                loop.schedule(after: 0) { [unowned self] in self.beginShutdown() }
            default: reply(reloadConfig())
            }
        }
    }

    func daemonStatus() -> JSON {
        var counts: [String: JSON] = [:]
        for state in ModuleState.allCases {
            counts[state.rawValue] = JSON(modules.values.filter { $0.state == state }.count)
        }
        return [
            "pid": JSON(getpid()), "version": .string(Daemon.version),
            "uptime_seconds": JSON((Clock.monotonic() - startedMono).rounded(.down)),
            "started_at": .string(Clock.iso8601(startedWall)), "config_file": .string(config.file),
            "base_directory": .string(FileSystem.absolute(config.baseDirectory)),
            "socket": .string(FileSystem.absolute(socketPath)),
            "modules": JSON(modules.count), "states": .object(counts), "shutting_down": .bool(isShuttingDown),
        ]
    }
}

import Glibc
import JSON
import RPC
import SuperBotConfig
import SuperBotLog
import Supervision
import SystemKit

/// The `superbot` entry point: options, config check, exit codes.
extension Daemon {
    public static func main(_ arguments: [String]) -> Int32 {
        let options: DaemonOptions
        do {
            options = try DaemonOptions.parse(arguments)
        } catch {
            printError("superbot: \(error)\n\(DaemonOptions.usage)")
            return 2
        }
        if options.help {
            print(DaemonOptions.usage)
            return 0
        }
        if options.version {
            print("superbot \(version)")
            return 0
        }
        let config: DaemonConfig
        let infrastructure: InfrastructureConfig
        do {
            config = try DaemonConfig.load(path: options.configPath)
            infrastructure = try Daemon.loadInfrastructure(next: config)
        } catch {
            printError("superbot: invalid configuration: \(error)")
            return 2
        }
        if options.checkOnly {
            print(
                "\(config.file): OK (\(config.modules.count) modules, autostart: \(config.autostart.joined(separator: ", ")))"
            )
            if let file = infrastructure.file {
                print(
                    "\(file): OK (cache: \(infrastructure.cache.backend.rawValue), bus: \(infrastructure.bus.rawValue))"
                )
            }
            return 0
        }
        do {
            let daemon = try Daemon(config: config, infrastructure: infrastructure, configPath: options.configPath)
            return daemon.run()
        } catch let error as InstanceLock.AlreadyRunning {
            printError("superbot: \(error); stop it first (superbot-cli daemon stop)")
            return 4
        } catch {
            printError("superbot: cannot start: \(error)")
            return 1
        }
    }

    /// `infrastructure.yaml` next to `daemon.yaml` (optional).
    static func loadInfrastructure(next config: DaemonConfig) throws -> InfrastructureConfig {
        try InfrastructureConfig.load(directory: FileSystem.directoryName(config.file))
    }

    static func printError(_ text: String) {
        try? FileSystem.writeAll(2, Array((text + "\n").utf8))
    }
}

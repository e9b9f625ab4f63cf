// webui: SuperBot's dashboard and HTTP API, a client of the daemon socket (see WebUIServer).
import Glibc
import SuperBotModule
import SystemKit
import WebUI

func fail(_ message: String, code: Int32 = 2) -> Never {
    try? FileSystem.writeAll(2, Array("webui: \(message)\n".utf8))
    exit(code)
}

let options: WebUIOptions
do {
    guard let parsed = try WebUIOptions.parse(Array(CommandLine.arguments.dropFirst())) else {
        print(WebUIOptions.usage)
        exit(0)
    }
    options = parsed
} catch { fail("\(error)") }

Signals.ignore(SIGPIPE)
ProcessControl.raiseDescriptorLimit()
let runtime = ModuleRuntime()
let loop: EventLoop
let web: WebUIServer
do {
    loop = try EventLoop()
    web = try WebUIServer(options: options, runtime: runtime, loop: loop)
} catch { fail("cannot listen on \(options.host):\(options.port): \(error)", code: 1) }

// The HTTP loop owns the main thread; the runtime's tasks run on the cooperative pool, and
// SIGTERM (through the runtime's shutdown) stops the loop.
let boundLoop = LoopBound(loop, executor: web.executor)
runtime.onShutdown { boundLoop.execute { $0.stop() } }
runtime.start()
web.start()
runtime.logger.info(
    "listening",
    ["host": .string(options.host), "port": .number(Double(web.port)), "token": .bool(options.token != nil)])
try? FileSystem.writeAll(1, Array("webui listening on http://\(options.host):\(web.port)/\n".utf8))
loop.run()
web.close()
exit(0)

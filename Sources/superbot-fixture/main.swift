// A child program whose behaviour tests choose with flags, so supervision is tested on real processes.
import Glibc
import SystemKit

var exitAfter: Double?
var exitCode: Int32 = 0
var ignoreTerm = false
var grandchild = false
var escapeGrandchild = false
var startDelay = 0.0
var spam = 0
var httpPort: UInt16?
var unhealthyAfter: Double?
var rssMB = 0
var pidFile: String?
var arguments = CommandLine.arguments.dropFirst()
while let arg = arguments.popFirst() {
    switch arg {
    case "--exit-after": exitAfter = Double(arguments.popFirst() ?? "0")
    case "--code": exitCode = Int32(arguments.popFirst() ?? "0") ?? 0
    case "--ignore-term": ignoreTerm = true
    case "--grandchild": grandchild = true
    case "--escape": escapeGrandchild = true
    case "--start-delay": startDelay = Double(arguments.popFirst() ?? "0") ?? 0
    case "--spam": spam = Int(arguments.popFirst() ?? "0") ?? 0
    case "--http": httpPort = UInt16(arguments.popFirst() ?? "0")
    case "--unhealthy-after": unhealthyAfter = Double(arguments.popFirst() ?? "0")
    case "--rss-mb": rssMB = Int(arguments.popFirst() ?? "0") ?? 0
    case "--pid-file": pidFile = arguments.popFirst()
    default:
        try? FileSystem.writeAll(2, Array("superbot-fixture: unknown option \(arg)\n".utf8))
        exit(64)
    }
}

func say(_ text: String) {
    try? FileSystem.writeAll(1, Array((text + "\n").utf8))
}

let started = Clock.monotonic()
if ignoreTerm { Signals.ignore(SIGTERM) }
say("fixture pid=\(getpid()) started")
for i in 0..<spam { say("line \(i) of \(spam): the quick brown fox jumps over the lazy dog") }
if grandchild {
    let child = fork()
    if child == 0 {
        if escapeGrandchild { setsid() }
        if ignoreTerm { Signals.ignore(SIGTERM) }
        if let pidFile { try? FileSystem.writeAtomically(pidFile + ".grandchild", Array("\(getpid())\n".utf8)) }
        while true { pause() }
    }
    say("grandchild pid=\(child)")
}
if let pidFile { try? FileSystem.writeAtomically(pidFile, Array("\(getpid())\n".utf8)) }
if rssMB > 0 {
    let size = rssMB << 20
    let block = malloc(size)!
    memset(block, 1, size)
    say("holding \(rssMB) MiB")
}
if startDelay > 0 { Clock.sleep(startDelay) }

var listener: Int32 = -1
if let httpPort {
    listener = (try? Socket.listenTCP(host: "127.0.0.1", port: httpPort)) ?? -1
    if listener < 0 {
        say("cannot listen on \(httpPort)")
        exit(70)
    }
}
while true {
    if let exitAfter, Clock.monotonic() - started >= exitAfter {
        say("exiting with code \(exitCode)")
        exit(exitCode)
    }
    if listener >= 0 {
        var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        if poll(&pfd, 1, 20) > 0, let client = Socket.accept(listener) {
            Socket.setNonBlocking(client)
            var buffer = [UInt8](repeating: 0, count: 2048)
            var cpfd = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            _ = poll(&cpfd, 1, 500)
            _ = read(client, &buffer, buffer.count)
            let healthy = unhealthyAfter.map { Clock.monotonic() - started < $0 } ?? true
            let body = healthy ? "ok\n" : "unhealthy\n"
            let head = healthy ? "HTTP/1.1 200 OK" : "HTTP/1.1 503 Service Unavailable"
            let response = "\(head)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            _ = Array(response.utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(client)
        }
    } else {
        Clock.sleep(0.02)
    }
}

// A module on the runtime whose behaviour tests choose with flags.
import Glibc
import JSON
import SuperBotModule
import SystemKit

var heartbeat = 0.0
var heartbeatFor: Double?
var serve: [String] = []
var slow = 0.0
var echo: [String] = []
var publishTopic: String?
var publishCount = 0
var cacheMethods = false
var arguments = CommandLine.arguments.dropFirst()
while let arg = arguments.popFirst() {
    switch arg {
    case "--heartbeat": heartbeat = Double(arguments.popFirst() ?? "1") ?? 1
    case "--heartbeat-for": heartbeatFor = Double(arguments.popFirst() ?? "1")
    case "--serve": serve.append(arguments.popFirst() ?? "fixture.echo")
    case "--slow": slow = Double(arguments.popFirst() ?? "0") ?? 0
    case "--echo": echo.append(arguments.popFirst() ?? ">")
    case "--publish": publishTopic = arguments.popFirst()
    case "--count": publishCount = Int(arguments.popFirst() ?? "0") ?? 0
    case "--cache": cacheMethods = true
    default:
        try? FileSystem.writeAll(2, Array("superbot-fixture-module: unknown option \(arg)\n".utf8))
        exit(64)
    }
}
let serveList = serve
let echoList = echo
let beat = heartbeat
let beatFor = heartbeatFor
let delay = slow
let topic = publishTopic
let count = publishCount
let serveCache = cacheMethods

let runtime = ModuleRuntime()
runtime.onShutdown {
    try? FileSystem.writeAll(1, Array("shutdown hook ran\n".utf8))
}
let code = await runtime.run { rt in
    for method in serveList {
        rt.register(method) { params in
            if delay > 0 { try await Task.sleep(for: .seconds(delay)) }
            return ["pid": JSON(getpid()), "params": params ?? .null, "method": .string(method)]
        }
    }
    if serveCache {
        // The shared cache through the runtime's API: fixture.cache_set {key, value, ttl}, fixture.cache_get {key}.
        rt.register("fixture.cache_set") { params in
            try await rt.cacheSet(
                params?["key"]?.stringValue ?? "", params?["value"] ?? .null, ttl: params?["ttl"]?.doubleValue)
            return ["stored": true]
        }
        rt.register("fixture.cache_get") { params in
            ["value": try await rt.cacheGet(params?["key"]?.stringValue ?? "") ?? .null]
        }
    }
    if beat > 0 {
        let task = rt.startHeartbeat(every: beat)
        if let beatFor {
            Task {
                try? await Task.sleep(for: .seconds(beatFor))
                task.cancel()
            }
        }
    }
    if let topic {
        while !rt.isConnected { try await Task.sleep(for: .milliseconds(10)) }
        for i in 0..<count { rt.publish(topic, ["n": JSON(i)]) }
    }
    if !echoList.isEmpty {
        let stream = try rt.subscribe(echoList)
        for await message in stream {
            rt.publish(
                "echo." + message.topic,
                ["data": message.data, "source": .string(message.source), "seq": JSON(message.seq)])
        }
    }
    try await Task.sleep(for: .seconds(1_000_000))
}
exit(code)

import JSON
import Reports
import SystemKit

/// `backtest run [OPTIONS]` starts the `backtest` module with OPTIONS for that run and follows
/// its progress on the bus; `backtest list` and `backtest show ID` read the reports it wrote.
struct BacktestCommand: CLICommand {
    static let verbs = ["backtest"]
    static let usage =
        "usage: backtest run [backtest options…] | backtest list [--report-dir DIR] | backtest show ID [--report-dir DIR]"

    enum Action: Equatable {
        case run(params: JSON, module: String)
        case list(directory: String)
        case show(id: String, directory: String)
    }

    let action: Action

    init(verb: String, arguments: [String]) throws(UsageError) {
        guard let sub = arguments.first else { throw UsageError(BacktestCommand.usage) }
        var rest = Array(arguments.dropFirst())
        var directory = "reports"
        if sub != "run", let i = rest.firstIndex(of: "--report-dir") {
            guard i + 1 < rest.count else { throw UsageError("--report-dir needs a directory") }
            directory = rest[i + 1]
            rest.removeSubrange(i...(i + 1))
        }
        switch sub {
        case "run":
            var module = "backtest"
            if let i = rest.firstIndex(of: "--module") {
                guard i + 1 < rest.count else { throw UsageError("--module needs a module name") }
                module = rest[i + 1]
                rest.removeSubrange(i...(i + 1))
            }
            action = .run(params: try BacktestCommand.params(rest), module: module)
        case "list":
            guard rest.isEmpty else { throw UsageError(BacktestCommand.usage) }
            action = .list(directory: directory)
        case "show":
            guard rest.count == 1 else { throw UsageError(BacktestCommand.usage) }
            action = .show(id: rest[0], directory: directory)
        default: throw UsageError(BacktestCommand.usage)
        }
    }

    /// `--data x.csv --fast 5 --allow-short --grid fast=5:9:1 slow=20:30:5` →
    /// `{"data": "/abs/x.csv", "fast": "5", "allow_short": true, "grid": ["fast=5:9:1", "slow=20:30:5"]}`:
    /// the daemon turns them back into the same options (paths made absolute, since the module
    /// runs in the daemon's directory).
    static func params(_ arguments: [String]) throws(UsageError) -> JSON {
        var out: [String: JSON] = [:]
        var i = 0
        while i < arguments.count {
            let flag = arguments[i]
            guard flag.hasPrefix("--"), flag.count > 2 else {
                throw UsageError("backtest run: expected an option like --data FILE, got '\(flag)'")
            }
            let key = String(flag.dropFirst(2).map { $0 == "-" ? "_" : $0 })
            var values: [String] = []
            i += 1
            while i < arguments.count, !arguments[i].hasPrefix("--") {
                values.append(arguments[i])
                i += 1
            }
            if ["data", "report_dir", "config"].contains(key), let v = values.first {
                values[0] = FileSystem.absolute(v)
            }
            out[key] =
                values.isEmpty
                ? .bool(true)
                : values.count == 1 && key != "grid" && key != "walk_forward"
                    ? .string(values[0]) : .array(values.map { .string($0) })
        }
        return .object(out)
    }

    func run(_ session: CLISession) throws -> ExitCode {
        switch action {
        case .run(let params, let module): return try follow(params: params, module: module, session)
        case .list(let directory): return list(directory, session)
        case .show(let id, let directory): return show(id, directory, session)
        }
    }

    private func follow(params: JSON, module: String, _ session: CLISession) throws -> ExitCode {
        let client = try session.connect()
        _ = try client.call("bus.subscribe", ["patterns": ["backtest.progress", "backtest.completed", "module.*"]])
        _ = try client.call("module.start", ["name": .string(module), "params": params, "wait": false])
        let terminal = Environment.isTerminal(2)
        Socket.setReceiveTimeout(client.fd, seconds: 0)
        var ended: String?
        while true {
            let message: JSON
            do { message = try client.readMessage() } catch  where ended != nil {
                CLISession.printError(
                    "superbot-cli: \(module) \(ended!) without a result (superbot-cli logs \(module))")
                return .failed
            }
            guard message["method"]?.stringValue == "bus.message", let p = message["params"] else { continue }
            let data = p["data"] ?? .null
            switch p["topic"]?.stringValue {
            case "backtest.progress":
                guard !session.json else { continue }
                let done = data["done"]?.intValue ?? 0
                let total = max(1, data["total"]?.intValue ?? 1)
                let line = "\(done * 100 / total)% \(done)/\(total), ETA \(data["eta_s"]?.doubleValue ?? 0) s"
                CLISession.printError(terminal ? "\r" + line + "\u{1b}[K" : line)
            case "backtest.completed":
                if terminal && !session.json { CLISession.printError("") }
                if session.json {
                    session.emit(data.serialized())
                } else if data["ok"]?.boolValue == true {
                    print(BacktestCommand.summary(data))
                } else {
                    CLISession.printError("superbot-cli: backtest failed: \(data["error"]?.stringValue ?? "?")")
                }
                return data["ok"]?.boolValue == true ? .ok : .failed
            case "module.crashed", "module.stopped", "module.failed":
                // The result may still be on its way: the module sends it before it exits.
                guard data["module"]?.stringValue == module, ended == nil else { continue }
                ended = "\(p["topic"]!.stringValue!.dropFirst(7)) (\(data["reason"]?.stringValue ?? "?"))"
                Socket.setReceiveTimeout(client.fd, seconds: 3)
            default: continue
            }
        }
    }

    static func summary(_ data: JSON) -> String {
        var lines = [
            "\(data["run_id"]?.stringValue ?? "?"): \(data["strategy"]?.stringValue ?? "") fast=\(data["fast"]?.intValue ?? 0) slow=\(data["slow"]?.intValue ?? 0), \(data["bars"]?.intValue ?? 0) bars of \(data["data"]?.stringValue ?? "")"
        ]
        for name in [
            "Return [%]", "Buy & Hold Return [%]", "Sharpe Ratio", "Max. Drawdown [%]", "# Trades", "Win Rate [%]",
            "Equity Final [$]",
        ] {
            let value =
                name == "# Trades"
                ? data[name]?.intValue.map(String.init) ?? "--"
                : data[name]?.doubleValue.map { Table.fixed($0) } ?? "--"
            lines.append("  " + name + String(repeating: " ", count: max(1, 24 - name.count)) + value)
        }
        if let report = data["report"]?.stringValue { lines.append("report: \(report)") }
        return lines.joined(separator: "\n")
    }

    private func list(_ directory: String, _ session: CLISession) -> ExitCode {
        let found = ReportIndex.all(in: directory)
        if session.json {
            print(JSON.array(found.map { ReportIndex.summary(id: $0.id, report: $0.report) }).serialized())
            return .ok
        }
        guard !found.isEmpty else {
            print("no reports in \(directory)/ (superbot-cli backtest run … writes them)")
            return .ok
        }
        var rows = [["ID", "CREATED", "STRATEGY", "BARS", "RETURN %", "SHARPE", "MAX DD %", "TRADES"]]
        for (id, r) in found {
            let p = r["parameters"]
            let s = r["statistics"]
            func number(_ name: String) -> String { s?[name]?.doubleValue.map { Table.fixed($0) } ?? "--" }
            rows.append([
                id, String((r["created"]?.stringValue ?? "").prefix(19)),
                "\(p?["strategy"]?.stringValue ?? "?")(\(p?["fast"]?.intValue ?? 0),\(p?["slow"]?.intValue ?? 0))",
                r["data"]?["bars"]?.intValue.map(String.init) ?? "?", number("Return [%]"), number("Sharpe Ratio"),
                number("Max. Drawdown [%]"), s?["# Trades"]?.intValue.map(String.init) ?? "?",
            ])
        }
        print(Table.render(rows))
        return .ok
    }

    private func show(_ id: String, _ directory: String, _ session: CLISession) -> ExitCode {
        guard let r = ReportIndex.report(id, in: directory) else {
            CLISession.printError(
                "superbot-cli: no report '\(id)' in \(directory)/ (superbot-cli backtest list shows them)")
            return .failed
        }
        if session.json {
            print(r.serialized())
            return .ok
        }
        var rows: [[String]] = []
        for name in r["statistics_order"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            rows.append([name, r["statistics_text"]?[name]?.stringValue ?? "--"])
        }
        print("\(id): \(r["data"]?["name"]?.stringValue ?? "?"), \(r["trades"]?.arrayValue?.count ?? 0) trades")
        print(Table.render(rows))
        for note in r["notes"]?.arrayValue?.compactMap(\.stringValue) ?? [] { print("note: \(note)") }
        print("report: \(directory)/\(id)/report.html")
        return .ok
    }
}

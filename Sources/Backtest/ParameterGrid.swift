import TradingSettings

/// `--grid fast=5:30:1 slow=10:100:5`: every combination of the strategy's parameters, each given
/// as `from:to:step` (inclusive), a list `5,10,20`, or one value.
public struct ParameterGrid: Sendable, Equatable {
    public static let parameters = ["fast", "slow"]
    public private(set) var axes: [(name: String, values: [Int])] = []

    public init(parsing specs: [String]) throws(UsageError) {
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, ParameterGrid.parameters.contains(parts[0]) else {
                throw UsageError(
                    "--grid takes NAME=FROM:TO:STEP with NAME one of \(ParameterGrid.parameters.joined(separator: ", ")); got '\(spec)'"
                )
            }
            guard !axes.contains(where: { $0.name == parts[0] }) else {
                throw UsageError("--grid names '\(parts[0])' twice")
            }
            axes.append((parts[0], try ParameterGrid.values(parts[1], name: parts[0])))
        }
        guard !axes.isEmpty else { throw UsageError("--grid needs at least one NAME=FROM:TO:STEP") }
        let count = axes.reduce(1) { $0 * $1.values.count }
        guard count <= 1_000_000 else { throw UsageError("--grid makes \(count) combinations; at most 1,000,000") }
    }

    static func values(_ text: String, name: String) throws(UsageError) -> [Int] {
        let range = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        if range.count == 3 || range.count == 2 {
            guard let from = range[0], let to = range[1], let step = range.count == 3 ? range[2] : 1, step > 0,
                from <= to, from >= 1
            else {
                throw UsageError("--grid \(name)=\(text): expected FROM:TO:STEP with 1 ≤ FROM ≤ TO and STEP ≥ 1")
            }
            return Array(stride(from: from, through: to, by: step))
        }
        let list = text.split(separator: ",").map { Int($0) }
        guard !list.isEmpty, list.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw UsageError("--grid \(name)=\(text): expected FROM:TO:STEP or a list of positive integers")
        }
        return list.map { $0! }
    }

    public var combinationCount: Int { axes.reduce(1) { $0 * $1.values.count } }

    /// Every combination applied to `base`; those a strategy cannot take (fast ≥ slow) are counted.
    public func combinations(of base: TradingConfig.Strategy) -> (valid: [TradingConfig.Strategy], invalid: Int) {
        var out = [base]
        for axis in axes {
            out = out.flatMap { s in
                axis.values.map { v in
                    var c = s
                    if axis.name == "fast" { c.fast = v } else { c.slow = v }
                    return c
                }
            }
        }
        let valid = out.filter { $0.fast >= 1 && $0.slow > $0.fast }
        return (valid, out.count - valid.count)
    }

    public static func == (a: ParameterGrid, b: ParameterGrid) -> Bool {
        a.axes.map(\.name) == b.axes.map(\.name) && a.axes.map(\.values) == b.axes.map(\.values)
    }
}

import JSON
import Testing

@testable import SuperBotDaemon

/// `module.start`'s `params` as the module's extra arguments.
@Suite struct RunParametersTests {
    @Test func paramsBecomeOptions() throws {
        let params: JSON = [
            "mode": "paper", "fast": 5, "allow_short": true, "close_at_end": false, "seed": nil,
            "grid": ["fast=5:30:1", "slow=10:100:5"], "commission": 0.002,
        ]
        let args = try RunParameters.arguments(params).get()
        #expect(
            args == [
                "--allow-short", "--commission", "0.002", "--fast", "5", "--grid", "fast=5:30:1", "slow=10:100:5",
                "--mode", "paper",
            ])
    }

    @Test(
        arguments: [
            JSON.array(["--data"]), ["Data": "x"], ["--data": "x"], ["data": ["a": 1]], ["data": []], ["data": [["x"]]],
            ["a b": 1],
        ] as [JSON])
    func badParamsAreRefused(params: JSON) {
        guard case .failure(let error) = RunParameters.arguments(params) else {
            Issue.record("accepted \(params.serialized())")
            return
        }
        #expect(error.code == -32602)
    }
}

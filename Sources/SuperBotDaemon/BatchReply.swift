import JSON

/// Collects the responses of one batch, in request order, and sends them together.
final class BatchReply {
    private var responses: [JSON?]
    private var remaining: Int
    private var completion: (([JSON]) -> Void)?

    init(count: Int) {
        responses = Array(repeating: nil, count: count)
        remaining = count
    }

    func set(_ index: Int, _ response: JSON?) {
        responses[index] = response
        remaining -= 1
        fireIfDone()
    }

    func whenComplete(_ body: @escaping ([JSON]) -> Void) {
        completion = body
        fireIfDone()
    }

    private func fireIfDone() {
        guard remaining == 0, let completion else { return }
        self.completion = nil
        completion(responses.compactMap { $0 })
    }
}

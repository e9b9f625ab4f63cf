/// `depends_on` as a graph: start order, stop order, and cycle detection for validation.
public struct DependencyGraph: Sendable {
    let dependencies: [String: [String]]
    let order: [String]
    /// The reverse edges, built once: asked for every queued stop, so it must not cost a pass.
    private let dependents: [String: [String]]

    public init(_ modules: [ModuleSpec]) {
        dependencies = Dictionary(modules.map { ($0.name, $0.dependsOn) }, uniquingKeysWith: { a, _ in a })
        order = modules.map(\.name)
        var reverse: [String: [String]] = [:]
        for name in order {
            for dependency in dependencies[name] ?? [] where reverse[dependency]?.last != name {
                reverse[dependency, default: []].append(name)
            }
        }
        dependents = reverse
    }

    /// A cycle as a path that returns to its start, or `nil`.
    public func cycle() -> [String]? {
        var state: [String: Int] = [:]  // 1 = on stack, 2 = done
        var stack: [String] = []
        func visit(_ node: String) -> [String]? {
            if state[node] == 2 { return nil }
            if state[node] == 1 {
                let start = stack.firstIndex(of: node)!
                return Array(stack[start...]) + [node]
            }
            state[node] = 1
            stack.append(node)
            for dep in dependencies[node] ?? [] {
                if let found = visit(dep) { return found }
            }
            stack.removeLast()
            state[node] = 2
            return nil
        }
        for name in order {
            if let found = visit(name) { return found }
        }
        return nil
    }

    /// Dependencies before dependents; ties keep the configuration order.
    public func startOrder() -> [String] {
        var done: Set<String> = []
        var out: [String] = []
        func visit(_ node: String) {
            guard done.insert(node).inserted else { return }
            for dep in dependencies[node] ?? [] { visit(dep) }
            out.append(node)
        }
        order.forEach(visit)
        return out
    }

    public func dependencies(of name: String) -> [String] { dependencies[name] ?? [] }

    /// Modules that list `name` in their `depends_on`.
    public func dependents(of name: String) -> [String] { dependents[name] ?? [] }

    /// `names` plus everything they depend on, transitively.
    public func closure(of names: [String]) -> Set<String> {
        var out: Set<String> = []
        var stack = names
        while let n = stack.popLast() {
            if out.insert(n).inserted { stack += dependencies[n] ?? [] }
        }
        return out
    }
}

import RPC

/// One namespace of control-socket methods (`module.*`), registered in one place: its handler,
/// whether it needs an authenticated connection, and its method names (for did-you-mean and so
/// that no module can register a method in it).
struct MethodNamespace {
    typealias Handler = (RPCRequest, Connection, @escaping ControlServer.Reply) -> Void

    /// The first segment, without the dot: `module`.
    let name: String
    /// Full method names: `module.start`.
    let methods: [String]
    let requiresAuth: Bool
    /// Methods still served while the daemon shuts down.
    let duringShutdown: Set<String>
    let handler: Handler

    init(
        _ name: String, _ methods: [String], requiresAuth: Bool = true, duringShutdown: Set<String> = [],
        handler: @escaping Handler
    ) {
        self.name = name
        self.methods = methods.map { "\(name).\($0)" }
        self.requiresAuth = requiresAuth
        self.duringShutdown = Set(duringShutdown.map { "\(name).\($0)" })
        self.handler = handler
    }
}

/// The daemon's own methods, by namespace. A method outside every namespace may be served by a
/// module (`rpc.register`); one inside a namespace but not in its list is unknown.
struct MethodTable {
    private var namespaces: [String: MethodNamespace] = [:]

    init(_ list: [MethodNamespace]) {
        for namespace in list {
            precondition(namespaces[namespace.name] == nil, "method namespace '\(namespace.name)' registered twice")
            namespaces[namespace.name] = namespace
        }
    }

    func namespace(of method: String) -> MethodNamespace? {
        guard let dot = method.firstIndex(of: ".") else { return nil }
        return namespaces[String(method[..<dot])]
    }

    /// Every daemon method, sorted.
    var methods: [String] { namespaces.values.flatMap(\.methods).sorted() }

    /// The namespace a module may not register `method` in, if any.
    func reservedNamespace(for method: String) -> String? { namespace(of: method)?.name }

    func requiresAuth(_ method: String) -> Bool { namespace(of: method)?.requiresAuth ?? true }
}

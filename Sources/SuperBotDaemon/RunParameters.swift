import JSON
import RPC

/// `module.start`'s `params` as command-line arguments after the module's own, as the original
/// RPC example has it (`{"module": "trading", "params": {"mode": "paper"}}` runs `--mode paper`):
/// a key becomes `--key` (`_` as `-`), `true` a bare flag, `false`/null nothing, a list one flag
/// followed by its values. Keys are sorted, so a run is reproducible from its parameters.
enum RunParameters {
    static func arguments(_ params: JSON) -> Result<[String], RPCError> {
        guard let object = params.objectValue else {
            return .failure(.invalidParams("'params' must be an object of option names and values"))
        }
        var out: [String] = []
        for key in object.keys.sorted() {
            guard let first = key.unicodeScalars.first, ("a"..."z").contains(first),
                key.unicodeScalars.allSatisfy({
                    ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
                })
            else {
                return .failure(
                    .invalidParams(
                        "params key '\(key.prefix(40))' must be lower-case letters, digits, '_' or '-' (an option name)"
                    ))
            }
            let flag = "--" + String(key.map { $0 == "_" ? "-" : $0 })
            func text(_ v: JSON) -> String? {
                switch v {
                case .string(let s): s
                case .integer(let i): String(i)
                case .number(let d): d.isFinite ? JSON.number(d).serialized() : nil
                default: nil
                }
            }
            switch object[key]! {
            case .bool(true): out.append(flag)
            case .bool(false), .null: continue
            case .array(let values):
                let texts = values.compactMap(text)
                guard texts.count == values.count, !texts.isEmpty else {
                    return .failure(.invalidParams("params '\(key)' must be a non-empty list of strings or numbers"))
                }
                out += [flag] + texts
            case let value:
                guard let t = text(value) else {
                    return .failure(.invalidParams("params '\(key)' must be a string, number, boolean or list"))
                }
                out += [flag, t]
            }
        }
        return .success(out)
    }
}

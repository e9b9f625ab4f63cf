import Glibc

/// One input for libFuzzer (`make fuzz` builds this target with `-sanitize=fuzzer,address` and
/// `-DFUZZING`); the target is chosen by `SUPERBOT_FUZZ_TARGET`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let name = getenv("SUPERBOT_FUZZ_TARGET").map { String(cString: $0) } ?? "json"
    guard let target = FuzzTargets.all[name] else { fatalError("unknown SUPERBOT_FUZZ_TARGET '\(name)'") }
    target(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

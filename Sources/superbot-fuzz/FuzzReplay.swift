import Glibc

#if !FUZZING
    /// Without libFuzzer: `superbot-fuzz TARGET FILE...` runs the target over saved inputs (the seed
    /// corpora, and every crash found, which stays in Tests/fuzz as a regression case). With
    /// `-DFUZZING` there is no `main` here, and libFuzzer's own drives `LLVMFuzzerTestOneInput`.
    @main
    struct FuzzReplay {
        static func main() {
            let arguments = CommandLine.arguments.dropFirst()
            guard let name = arguments.first, let target = FuzzTargets.all[name] else {
                print("usage: superbot-fuzz \(FuzzTargets.all.keys.sorted().joined(separator: "|")) FILE...")
                exit(2)
            }
            var count = 0
            for path in arguments.dropFirst() {
                guard let bytes = read(path) else {
                    print("superbot-fuzz: cannot read \(path)")
                    exit(1)
                }
                target(bytes)
                count += 1
            }
            print("\(name): \(count) inputs, no failure")
        }

        static func read(_ path: String) -> [UInt8]? {
            guard let file = fopen(path, "rb") else { return nil }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&buffer, 1, buffer.count, file)
                if n <= 0 { return bytes }
                bytes += buffer[0..<n]
            }
        }
    }
#endif

#if FUZZING
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// The executable's entry point as SwiftPM names it: hands over to libFuzzer's driver.
    @_cdecl("superbot_fuzz_main")
    func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var count = argc
        var arguments = argv
        return runFuzzerDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
    }
#endif

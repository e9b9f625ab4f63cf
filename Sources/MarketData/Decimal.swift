/// Exchange-style decimal strings without Foundation: Binance sends prices and quantities as
/// strings like "64123.45000000" so no precision is lost in transit.
public enum DecimalText {
    /// `value` with exactly `places` decimals (half away from zero).
    public static func format(_ value: Double, places: Int = 8) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9.0e18 else { return String(value) }
        let units = UInt64(scaled)
        var digits = String(units)
        if digits.count <= places { digits = String(repeating: "0", count: places - digits.count + 1) + digits }
        let sign = value < 0 && units != 0 ? "-" : ""
        if places == 0 { return sign + digits }
        let cut = digits.index(digits.endIndex, offsetBy: -places)
        return sign + digits[..<cut] + "." + digits[cut...]
    }

    /// `value` rounded down to a multiple of `step` (LOT_SIZE / PRICE_FILTER semantics).
    public static func floor(_ value: Double, step: Double) -> Double {
        guard step > 0 else { return value }
        return ((value / step) + 1e-9).rounded(.down) * step
    }

    /// `value` rounded to the nearest multiple of `step`.
    public static func round(_ value: Double, step: Double) -> Double {
        guard step > 0 else { return value }
        return (value / step).rounded() * step
    }
}

/// One OHLCV bar; `time` is the open time in milliseconds since the Unix epoch (Binance's unit).
public struct Bar: Equatable, Sendable {
    public var time: Int64
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double
    public var volume: Double

    public init(time: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double) {
        self.time = time
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }

    /// A bar of one observed price (what a live engine sees each cycle).
    public init(time: Int64, price: Double) {
        self.init(time: time, open: price, high: price, low: price, close: price, volume: 0)
    }

    /// Extends the bar with a later price.
    public mutating func add(price: Double, volume: Double = 0) {
        high = max(high, price)
        low = min(low, price)
        close = price
        self.volume += volume
    }
}

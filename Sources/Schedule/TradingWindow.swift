/// Trading hours: open from `start` to `stop` (local time in `zone`) on the given ISO weekdays
/// (Monday = 1 … Sunday = 7). A window whose stop is before its start runs overnight and closes
/// the next morning. Whether it is open is decided by its last edge, so DST is handled exactly as
/// for any fixed-time job.
public struct TradingWindow: Equatable, Sendable {
    public let module: String
    public let start: (hour: Int, minute: Int)
    public let stop: (hour: Int, minute: Int)
    public let days: Set<Int>
    public let opens: CronSchedule
    public let closes: CronSchedule

    public static func == (a: TradingWindow, b: TradingWindow) -> Bool {
        a.module == b.module && a.opens == b.opens && a.closes == b.closes
    }

    public init(
        module: String, start: (hour: Int, minute: Int), stop: (hour: Int, minute: Int), days: Set<Int>, zone: ZoneInfo
    ) {
        self.module = module
        self.start = start
        self.stop = stop
        self.days = days
        let cronDays = Set(days.map { $0 % 7 })
        let overnight = stop.hour * 60 + stop.minute < start.hour * 60 + start.minute
        let closeDays = overnight ? Set(cronDays.map { ($0 + 1) % 7 }) : cronDays
        let all = days.count == 7
        opens = CronSchedule(
            CronExpression(hour: start.hour, minute: start.minute, weekdays: all ? [] : cronDays), zone: zone)
        closes = CronSchedule(
            CronExpression(hour: stop.hour, minute: stop.minute, weekdays: all ? [] : closeDays), zone: zone)
    }

    public func isOpen(at instant: Int64) -> Bool {
        guard let opened = opens.previous(before: instant + 1) else { return false }
        guard let closed = closes.previous(before: instant + 1) else { return true }
        return opened > closed
    }

    /// The next time the window opens or closes after `instant`.
    public func nextEdge(after instant: Int64) -> (at: Int64, opens: Bool)? {
        let open = opens.next(after: instant)
        let close = closes.next(after: instant)
        switch (open, close) {
        case (let o?, let c?): return o <= c ? (o, true) : (c, false)
        case (let o?, nil): return (o, true)
        case (nil, let c?): return (c, false)
        default: return nil
        }
    }

    public var description: String {
        func hm(_ t: (hour: Int, minute: Int)) -> String {
            (t.hour < 10 ? "0" : "") + "\(t.hour):" + (t.minute < 10 ? "0" : "") + "\(t.minute)"
        }
        return
            "\(hm(start))–\(hm(stop)) \(opens.zone.name) on days \(days.sorted().map(String.init).joined(separator: ","))"
    }
}

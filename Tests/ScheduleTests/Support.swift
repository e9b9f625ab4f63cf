import Schedule

/// Zones from the system's tz database, loaded once per use.
func zone(_ name: String) throws -> ZoneInfo { try ZoneDirectory().zone(named: name) }

/// UTC seconds of an ISO 8601 instant (`…Z` or with an offset).
func at(_ text: String) -> Int64 { try! ISO8601.parse(text, zone: .utc) }

func schedule(_ expression: String, _ zoneName: String) throws -> CronSchedule {
    CronSchedule(try CronExpression(parsing: expression), zone: try zone(zoneName))
}

/// The next `count` fire times after `start`, as local ISO strings in the schedule's zone.
func nextLocal(_ s: CronSchedule, after start: String, _ count: Int) -> [String] {
    s.upcoming(after: at(start), count: count).map { ISO8601.local($0, in: s.zone) }
}

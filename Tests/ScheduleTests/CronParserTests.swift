import Schedule
import Testing

/// The 5-field parser: what each form means, and malformed input refused with field, value and column.
struct CronParserTests {
    @Test func fieldsListsRangesStepsAndNames() throws {
        let e = try CronExpression(parsing: "*/15 9-17 1,15 jan-mar mon-fri")
        #expect(e.minutes == (1 << 0 | 1 << 15 | 1 << 30 | 1 << 45))
        #expect(e.hours == (0..<24).filter { (9...17).contains($0) }.reduce(0) { $0 | 1 << UInt32($1) })
        #expect(e.daysOfMonth == (1 << 1 | 1 << 15))
        #expect(e.months == (1 << 1 | 1 << 2 | 1 << 3))
        #expect(e.daysOfWeek == 0b0111110)
        #expect(e.minuteStar && !e.hourStar && !e.dayOfMonthStar && !e.dayOfWeekStar)
        let stepped = try CronExpression(parsing: "0 0 1-30/7 * *")
        #expect(stepped.daysOfMonth == (1 << 1 | 1 << 8 | 1 << 15 | 1 << 22 | 1 << 29))
    }

    @Test func sundayIsZeroOrSevenAndNamesIgnoreCase() throws {
        let seven = try CronExpression(parsing: "0 0 * * 7")
        let zero = try CronExpression(parsing: "0 0 * * 0")
        let name = try CronExpression(parsing: "0 0 * * SUN")
        #expect(seven.daysOfWeek == 1 && zero.daysOfWeek == 1 && name.daysOfWeek == 1)
        #expect(try CronExpression(parsing: "0 0 * * 5-7").daysOfWeek == (1 << 5 | 1 << 6 | 1))
        #expect(try CronExpression(parsing: "0 0 * Dec *").months == 1 << 12)
    }

    @Test func aliasesAndTimesOfDay() throws {
        #expect(try CronExpression(parsing: "@daily").minutes == 1 && CronExpression(parsing: "@daily").hours == 1)
        #expect(try CronExpression(parsing: "@weekly").daysOfWeek == 1)
        let nine = try CronExpression(parsing: "09:30")
        #expect(nine.minutes == 1 << 30 && nine.hours == 1 << 9 && !nine.followsClock)
        #expect(try CronExpression(parsing: "9:05").hours == 1 << 9)
    }

    /// Each case: the text, the field blamed, the column blamed.
    static let malformed: [(String, String?, Int)] = [
        ("61 * * * *", "minute", 1),
        ("* 24 * * *", "hour", 3),
        ("* * 0 * *", "day-of-month", 5),
        ("* * 32 * *", "day-of-month", 5),
        ("* * * 13 *", "month", 7),
        ("* * * * 8", "day-of-week", 9),
        ("*/0 * * * *", "minute", 3),
        ("*/60 * * * *", "minute", 3),
        ("5/15 * * * *", "minute", 1),
        ("10-5 * * * *", "minute", 1),
        ("1,,2 * * * *", "minute", 3),
        ("1, * * * *", "minute", 3),
        ("-5 * * * *", "minute", 1),
        ("5- * * * *", "minute", 3),
        ("* * * foo *", "month", 7),
        ("* * * * fri-mon", "day-of-week", 9),
        ("? * * * *", "minute", 1),
        ("0 0 L * *", "day-of-month", 5),
        ("0 0 * * 1#2", "day-of-week", 9),
        ("* * * * * *", nil, 11),
        ("* * * *", nil, 8),
        ("", nil, 1),
        ("@reboot", nil, 1),
        ("0 0 30 2 *", "day-of-month", 5),
        ("0 0 31 4,6,9,11 *", "day-of-month", 5),
        ("25:00", "hour", 1),
        ("12:60", "minute", 4),
        ("12:5", "time", 1),
        ("00005 * * * *", "minute", 1),
    ]

    @Test(arguments: malformed) func malformedIsRefusedNamingFieldValueAndColumn(
        _ text: String, _ field: String?, _ column: Int
    ) {
        do {
            let e = try CronExpression(parsing: text)
            Issue.record("'\(text)' was accepted as \(e)")
        } catch let error as CronError {
            #expect(error.field == field, "\(text): \(error)")
            #expect(error.column == column, "\(text): \(error)")
            #expect(!error.description.isEmpty)
        } catch {
            Issue.record("'\(text)': unexpected \(error)")
        }
    }

    /// Fed one character at a time: every prefix either parses (and then means what its text
    /// says) or is refused with a CronError; nothing traps.
    @Test func everyPrefixParsesOrIsRefused() throws {
        let texts = ["*/15 9-17 1,15 jan-mar mon-fri", "0 2 * * *", "1-30/7 */2 29 feb sun-sat", "@hourly", "09:30"]
        for text in texts {
            var prefix = ""
            for c in text {
                prefix.append(c)
                do {
                    let e = try CronExpression(parsing: prefix)
                    #expect(e.source == prefix.trimmingCharacters())
                } catch is CronError {
                } catch {
                    Issue.record("'\(prefix)': \(error)")
                }
            }
            #expect(throws: Never.self) { try CronExpression(parsing: text) }
        }
    }

    /// Random bytes from the cron alphabet: refused or accepted, never a trap, and whatever is
    /// accepted matches at least one minute within 29 years or was refused as never-firing.
    @Test func randomInputNeverTraps() {
        var rng = SplitMix(seed: 7)
        let alphabet = Array("0123456789*/-, \tjanfebmonsunJANxyz@:L?#")
        for _ in 0..<20_000 {
            let length = Int(rng.next() % 24)
            let text = String((0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            if let e = try? CronExpression(parsing: text) {
                #expect(e.firstMatch(from: 0, before: 29 * 366 * 86_400) != nil, "\(text)")
            }
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension String {
    func trimmingCharacters() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

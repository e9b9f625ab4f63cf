"""Next fire times from croniter for generated cron expressions, zones and start instants.

Prints one JSON object per line: {"expr", "tz", "start", "next": [epoch seconds, ...]}.
Used by CroniterDifferentialTests; the cases are seeded, so every run checks the same ones.
"""
import json
import random
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter

ZONES = ["Europe/Istanbul", "America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# Start instants: ordinary days, the DST weeks of 2026 in the zones above, Feb 29, month ends.
STARTS = [
    "2026-01-01T00:00:00Z", "2026-03-07T12:00:00Z", "2026-03-27T22:00:00Z", "2026-04-04T10:00:00Z",
    "2026-10-03T10:00:00Z", "2026-10-24T22:00:00Z", "2026-10-31T12:00:00Z", "2028-02-28T12:00:00Z",
    "2027-12-31T23:59:00Z", "2026-06-30T23:30:30Z",
]


def field(rng, low, high, names=None):
    kind = rng.randrange(8)
    def value():
        n = rng.randint(low, high)
        if names and rng.random() < 0.3:
            return names[n - low] if len(names) == high - low + 1 else str(n)
        return str(n)
    if kind == 0:
        return "*"
    if kind == 1:
        return "*/" + str(rng.randint(1, max(1, (high - low) // 2)))
    if kind == 2:
        return value()
    if kind == 3:
        return ",".join(sorted({str(rng.randint(low, high)) for _ in range(rng.randint(2, 4))}, key=int))
    a, b = sorted(rng.sample(range(low, high + 1), 2))
    if kind in (4, 5):
        return f"{a}-{b}"
    return f"{a}-{b}/{rng.randint(1, max(1, b - a))}"


def expressions(rng, count):
    fixed = ["0 0 31 * *", "0 0 29 2 *", "30 2 * * *", "0 2 * * *", "*/15 * * * *", "0 0 13 * 5",
             "0 12 * * mon-fri", "15 1 * * *", "45 2 * * 0", "0 3 * * *", "0 0 1 1 *", "59 23 31 12 *",
             "0 9-17 * * 1-5", "30 1 1,15 * *", "0 0 * * 7", "5 4 * * sun"]
    out = list(fixed)
    while len(out) < count:
        minute = field(rng, 0, 59)
        hour = field(rng, 0, 23)
        dom = field(rng, 1, 31)
        month = field(rng, 1, 12, MONTHS)
        dow = field(rng, 0, 6, DAYS)
        out.append(f"{minute} {hour} {dom} {month} {dow}")
    return out


def main():
    rng = random.Random(20261201)
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    for expr in expressions(rng, count):
        tz = rng.choice(ZONES)
        for start_text in rng.sample(STARTS, 3):
            start = int(datetime.fromisoformat(start_text.replace("Z", "+00:00")).timestamp())
            base = datetime.fromtimestamp(start, tz=ZoneInfo(tz))
            try:
                # Vixie cron ORs the two day fields only when neither is written starting with '*'
                # ('*/2' counts as '*'); croniter ORs whenever both are restricted. day_or=False
                # (AND) for the cases where Vixie ANDs makes croniter answer Vixie's question.
                dom, dow = expr.split()[2], expr.split()[4]
                it = croniter(expr, base, day_or=not (dom.startswith("*") or dow.startswith("*")))
                nexts = [int(it.get_next(datetime).timestamp()) for _ in range(5)]
            except Exception as error:  # croniter refuses it (e.g. a day that never comes)
                nexts = None
                print(json.dumps({"expr": expr, "tz": tz, "start": start, "error": str(error)}))
                continue
            print(json.dumps({"expr": expr, "tz": tz, "start": start, "next": nexts}))


main()

"""SuperBot vs supervisord on the same trivial program (/bin/sleep), measured in one run.

Each figure is a median over repeated trials; the ratio column is supervisord / SuperBot
(above 1 means SuperBot is faster or smaller). Timings on shared machines are noisy, which is
why both run here, now, on the same file system.
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

SLEEP = shutil.which("sleep") or "/bin/sleep"


def children(pid):
    """Direct children of pid (all threads), with their argv."""
    out = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                for c in f.read().split():
                    try:
                        with open(f"/proc/{c}/cmdline", "rb") as g:
                            out[int(c)] = g.read().split(b"\0")
                    except OSError:
                        pass
        except OSError:
            pass
    return out


def sleepers(pid):
    return {c: argv for c, argv in children(pid).items() if argv and argv[0].endswith(b"sleep")}


def wait_for(condition, timeout=30.0, interval=0.0002):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("condition not met within %.0f s" % timeout)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def all_processes_with_arg(marker):
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    if marker in f.read().split(b"\0"):
                        found.append(int(name))
            except OSError:
                pass
    return found


class SuperBot:
    name = "SuperBot"

    def __init__(self, args, root, count):
        self.args, self.root, self.count = args, root, count
        os.makedirs(f"{root}/config", exist_ok=True)
        lines = ["daemon:", "  modules:"]
        for i in range(count):
            lines.append(f"    m{i}: {{type: command, command: {SLEEP}, args: [\"{self.arg(i)}\"], start_seconds: 0, "
                         f"restart_delay: 0, max_restart_attempts: 10000}}")
        lines.append("  autostart: [" + ", ".join(f"m{i}" for i in range(count)) + "]")
        lines.append("  watchdog: {check_interval: 30}")
        with open(f"{root}/config/daemon.yaml", "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def arg(self, i):
        return f"{9100000 + i}"

    def start(self):
        self.proc = subprocess.Popen([self.args.superbot, "--config", f"{self.root}/config"], cwd=self.root,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self.proc.pid

    def status_command(self):
        return [self.args.superbot_cli, "--socket", f"{self.root}/.superbot/superbot.sock", "status"]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)

    def kill9(self):
        self.proc.kill()
        self.proc.wait()


class Supervisord:
    name = "supervisord"

    def __init__(self, args, root, count):
        self.args, self.root, self.count = args, root, count
        conf = [
            "[supervisord]", f"logfile={root}/supervisord.log", f"pidfile={root}/supervisord.pid", "nodaemon=true",
            "[unix_http_server]", f"file={root}/supervisor.sock",
            "[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "[supervisorctl]", f"serverurl=unix://{root}/supervisor.sock",
        ]
        for i in range(count):
            conf += [f"[program:m{i}]", f"command={SLEEP} {self.arg(i)}", "startsecs=0", "autorestart=true",
                     "startretries=100000", f"stdout_logfile={root}/m{i}.log", "redirect_stderr=true"]
        os.makedirs(root, exist_ok=True)
        self.conf = f"{root}/supervisord.conf"
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.proc = None

    def arg(self, i):
        return f"{9200000 + i}"

    def start(self):
        self.proc = subprocess.Popen([self.args.supervisord, "-c", self.conf], cwd=self.root,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self.proc.pid

    def status_command(self):
        return [self.args.supervisorctl, "-c", self.conf, "status"]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)

    def kill9(self):
        self.proc.kill()
        self.proc.wait()


def cleanup_markers(sup):
    for i in range(sup.count):
        for pid in all_processes_with_arg(sup.arg(i).encode()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def bench_cold_start(cls, args, base, count):
    times = []
    for trial in range(args.trials_start):
        sup = cls(args, f"{base}/{cls.name}-cold{count}-{trial}", count)
        t0 = time.perf_counter()
        pid = sup.start()
        wait_for(lambda: len(sleepers(pid)) >= count, timeout=60)
        times.append((time.perf_counter() - t0) * 1000)
        sup.stop()
        cleanup_markers(sup)
    return statistics.median(times)


def bench_restart(sup, pid, trials):
    times = []
    target = sup.arg(0).encode()
    for _ in range(trials):
        old = wait_for(lambda: [c for c, argv in sleepers(pid).items() if target in argv])
        t0 = time.perf_counter()
        os.kill(old[0], signal.SIGKILL)
        wait_for(lambda: [c for c, argv in sleepers(pid).items() if target in argv and c != old[0]], timeout=30)
        times.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.05)
    return statistics.median(times)


def bench_status(sup, trials):
    times = []
    for _ in range(trials):
        t0 = time.perf_counter()
        subprocess.run(sup.status_command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bench_kill9(cls, args, base):
    sup = cls(args, f"{base}/{cls.name}-kill9", 3)
    pid = sup.start()
    wait_for(lambda: len(sleepers(pid)) >= 3)
    time.sleep(0.5)
    sup.kill9()
    pid = sup.start()
    time.sleep(2.5)
    wait_for(lambda: len(sleepers(pid)) >= 3 or len(all_processes_with_arg(sup.arg(0).encode())) >= 1)
    copies = sum(len(all_processes_with_arg(sup.arg(i).encode())) for i in range(3))
    sup.stop()
    cleanup_markers(sup)
    return copies


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--superbot", required=True)
    p.add_argument("--superbot-cli", required=True)
    p.add_argument("--supervisord", required=True)
    p.add_argument("--supervisorctl", required=True)
    p.add_argument("--trials-restart", type=int, default=15)
    p.add_argument("--trials-status", type=int, default=20)
    p.add_argument("--trials-start", type=int, default=3)
    p.add_argument("--idle-seconds", type=float, default=30)
    p.add_argument("--dir", default=None, help="where the supervisors run (default: a temp dir on this disk)")
    p.add_argument("--rounds", type=int, default=3, help="rounds, alternating which contender goes first; medians")
    args = p.parse_args()
    base = args.dir or tempfile.mkdtemp(prefix="sbbench-", dir=os.getcwd() + "/.build")
    values = {}  # metric -> ([ours per round], [theirs per round], unit, goal)

    def record(metric, ours, theirs, unit, goal):
        entry = values.setdefault(metric, ([], [], unit, goal))
        entry[0].append(ours)
        entry[1].append(theirs)
        print(f"  {metric}: SuperBot {ours:.2f} {unit}, supervisord {theirs:.2f} {unit}", flush=True)

    def pair(first_ours, ours, theirs):
        """Runs the two measurements in the round's order; returns (ours, theirs)."""
        if first_ours:
            a = ours()
            return a, theirs()
        b = theirs()
        return ours(), b

    print(f"# SuperBot vs supervisord — {os.cpu_count()} cores, run dir {base}, {args.rounds} rounds", flush=True)
    copies = []
    for r in range(args.rounds):
        first = r % 2 == 0
        print(f"round {r + 1} ({'SuperBot' if first else 'supervisord'} first)", flush=True)
        for count in (3, 100):
            sups = [SuperBot(args, f"{base}/r{r}-sb-{count}", count), Supervisord(args, f"{base}/r{r}-sd-{count}", count)]
            pids = [s.start() for s in sups]
            for s, pid in zip(sups, pids):
                wait_for(lambda: len(sleepers(pid)) >= count, timeout=60)
            time.sleep(2)
            record(f"daemon RSS, {count} modules", rss_kib(pids[0]) / 1024, rss_kib(pids[1]) / 1024, "MiB",
                   "≤ 1/3 of supervisord")
            if count == 3:
                record("crash → new child running (restart delay 0)",
                       *pair(first, lambda: bench_restart(sups[0], pids[0], args.trials_restart),
                             lambda: bench_restart(sups[1], pids[1], max(3, args.trials_restart // 3))),
                       "ms", "≤ runit's 3.0 ms")
                record("status round trip (CLI process)",
                       *pair(first, lambda: bench_status(sups[0], args.trials_status),
                             lambda: bench_status(sups[1], max(5, args.trials_status // 2))),
                       "ms", "≤ 5 ms")
            else:
                time.sleep(1)
                c0 = [cpu_seconds(pid) for pid in pids]
                time.sleep(args.idle_seconds)
                c1 = [cpu_seconds(pid) for pid in pids]
                scale = 30 / args.idle_seconds
                record("idle CPU, 100 modules (per 30 s)", (c1[0] - c0[0]) * 1000 * scale,
                       (c1[1] - c0[1]) * 1000 * scale, "ms", "< supervisord")
            for s in sups:
                s.stop()
                cleanup_markers(s)
        record("cold start, 100 modules until all running",
               *pair(first, lambda: bench_cold_start(SuperBot, args, f"{base}/r{r}", 100),
                     lambda: bench_cold_start(Supervisord, args, f"{base}/r{r}", 100)),
               "ms", "≤ runit")
        ours, theirs = pair(first, lambda: bench_kill9(SuperBot, args, f"{base}/r{r}"),
                            lambda: bench_kill9(Supervisord, args, f"{base}/r{r}"))
        copies.append((ours, theirs))
        print(f"  supervisor SIGKILLed and restarted, 3 modules: SuperBot runs {ours} copies, supervisord runs {theirs}",
              flush=True)

    print(f"\nMedians of {args.rounds} rounds (each round's figures above):")
    print("\n| metric | SuperBot | supervisord | supervisord / SuperBot | goal |")
    print("|---|---:|---:|---:|---|")
    for metric, (o_all, t_all, unit, goal) in values.items():
        o, t = statistics.median(o_all), statistics.median(t_all)
        shown = f"{t / o:.1f}×" if o else "— (SuperBot under one 10 ms clock tick)"
        print(f"| {metric} | {o:.2f} {unit} | {t:.2f} {unit} | {shown} | {goal} |")
    ours, theirs = max(c[0] for c in copies), max(c[1] for c in copies)
    print(f"| supervisor SIGKILLed + restarted, 3 modules | {ours} processes (adopted) | {theirs} processes "
          f"({'duplicates' if theirs > 3 else 'no duplicates'}) | | no duplicates |")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

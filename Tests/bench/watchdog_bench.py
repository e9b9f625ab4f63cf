"""The watchdog pass over N modules: SuperBot's (one /proc scan, then every module's tree,
resources and limits; timed inside the daemon, `monitoring.metrics` watchdog.last_pass_ms)
against psutil doing the same (one process_iter pass and the trees), on the
same N sleep processes. Trials alternate which of the two runs first; medians."""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

import psutil

SLEEP = shutil.which("sleep")


def cli(args, root, *command):
    r = subprocess.run([args.superbot_cli, "--json", "--socket", f"{root}/.superbot/superbot.sock", *command],
                       capture_output=True, text=True, timeout=60)
    return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else None


def psutil_pass(pids):
    """psutil at its best: one process_iter pass (ppid, CPU times, RSS, threads, state) and the
    trees from a ppid map, as the daemon's pass does."""
    t0 = time.perf_counter()
    info, children = {}, {}
    for p in psutil.process_iter(["ppid", "cpu_times", "memory_info", "num_threads", "status"]):
        info[p.pid] = p.info
        children.setdefault(p.info["ppid"], []).append(p.pid)
    for pid in pids:
        stack, cpu, rss, threads = [pid], 0.0, 0, 0
        while stack:
            q = stack.pop()
            i = info.get(q)
            if i and i["cpu_times"]:
                cpu += i["cpu_times"].user + i["cpu_times"].system
                rss += i["memory_info"].rss if i["memory_info"] else 0
                threads += i["num_threads"] or 0
            stack.extend(children.get(q, []))
    return (time.perf_counter() - t0) * 1000


def run(args, count, trials):
    root = tempfile.mkdtemp(prefix=f"sbwatch-{count}-", dir=os.getcwd() + "/.build")
    os.makedirs(f"{root}/config")
    lines = ["daemon:", "  modules:"]
    for i in range(count):
        lines.append(f"    m{i}: {{type: command, command: {SLEEP}, args: [\"{9200000 + i}\"], start_seconds: 0}}")
    lines.append("  autostart: [" + ", ".join(f"m{i}" for i in range(count)) + "]")
    lines.append("  watchdog: {check_interval: 1}")
    lines.append("  ipc: {max_connections: 64}")
    with open(f"{root}/config/daemon.yaml", "w") as f:
        f.write("\n".join(lines) + "\n")
    daemon = subprocess.Popen([args.superbot, "--config", f"{root}/config"], cwd=root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            mods = cli(args, root, "rpc", "module.list")
            if mods and len([m for m in mods.get("modules", mods) if m.get("state") == "running"]) == count:
                break
            time.sleep(0.5)
        mods = cli(args, root, "rpc", "module.list")
        pids = [m["pid"] for m in mods.get("modules", mods) if m.get("pid")]
        ours, theirs = [], []
        for t in range(trials):
            first_psutil = t % 2 == 0
            if first_psutil:
                theirs.append(psutil_pass(pids))
            checks = cli(args, root, "rpc", "monitoring.metrics")["watchdog.checks"]
            # A fresh pass (one per check_interval) since the last reading.
            while cli(args, root, "rpc", "monitoring.metrics")["watchdog.checks"] == checks:
                time.sleep(0.1)
            ours.append(cli(args, root, "rpc", "monitoring.metrics")["watchdog.last_pass_ms"])
            if not first_psutil:
                theirs.append(psutil_pass(pids))
        return statistics.median(ours), statistics.median(theirs), len(pids)
    finally:
        daemon.terminate()
        try:
            daemon.wait(60)
        except subprocess.TimeoutExpired:
            daemon.kill()
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--superbot", required=True)
    ap.add_argument("--superbot-cli", required=True)
    ap.add_argument("--sizes", default="200,1000")
    ap.add_argument("--trials", type=int, default=5)
    args = ap.parse_args()
    rows = []
    for count in [int(s) for s in args.sizes.split(",")]:
        ours, theirs, n = run(args, count, args.trials)
        rows.append((count, ours, theirs))
        print(f"  {count} modules ({n} pids): SuperBot pass {ours:.2f} ms, psutil {theirs:.2f} ms", flush=True)
    print("\n| watchdog pass | SuperBot | psutil | psutil / SuperBot |")
    print("|---|---:|---:|---:|")
    for count, ours, theirs in rows:
        print(f"| {count} modules | {ours:.2f} ms | {theirs:.2f} ms | {theirs / ours:.1f}× |")
    if len(rows) >= 2:
        (a, oa, _), (b, ob, _) = rows[0], rows[-1]
        print(f"\nSuperBot {b} vs {a} modules: {ob / oa:.1f}× the time for {b / a:.0f}× the modules")


if __name__ == "__main__":
    sys.exit(main())

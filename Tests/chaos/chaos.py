"""Chaos for the supervisor (`make chaos`, and a 60 s run in `make test`).

For --seconds, at random: SIGKILL a module's main process, SIGKILL one of its grandchildren
(in its tree, or escaped with setsid), SIGSTOP a module for a moment, or SIGKILL the daemon
itself and start a new one (which must adopt, not duplicate). Meanwhile it samples every module's
state. At the end it stops the daemon and prints kills, recoveries, orphans, duplicates and
module uptime; it exits non-zero on any orphan, duplicate or unrecovered kill.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

MODULES = {
    # name: (command, the main process's command line once it runs)
    "tree": ("sleep 200000 & exec sleep 200001", "sleep 200001"),
    "escaper": ("setsid -f sleep 300000; exec sleep 300001", "sleep 300001"),
    "plain": ("exec sleep 400001", "sleep 400001"),
    "nested": ("sh -c 'sleep 500000 & wait' & exec sleep 500001", "sleep 500001"),
}


def config():
    lines = ["daemon:", "  modules:"]
    for name, (command, _) in MODULES.items():
        lines.append(f"    {name}: {{command: {json.dumps(command)}, shell: true, start_seconds: 0.2,"
                     " restart_delay: 0.1, restart_cooldown: 1, max_restart_attempts: 1000, restart_window: 60}")
    lines.append("  autostart: [" + ", ".join(MODULES) + "]")
    lines.append("  watchdog: {check_interval: 1}")
    return "\n".join(lines) + "\n"


def marked(run_id):
    """pid -> (module, cmdline) for live processes carrying this run's marker."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{name}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if state in ("Z", "X") or f"SUPERBOT_RUN_ID={run_id}".encode() not in env:
            continue
        module = next((e[16:].decode() for e in env if e.startswith(b"SUPERBOT_MODULE=")), "?")
        out[int(name)] = (module, cmdline)
    return out


class Chaos:
    def __init__(self, bin_dir, workdir):
        self.bin = bin_dir
        self.dir = workdir
        self.sock = f"{workdir}/.superbot/superbot.sock"
        self.daemon = None
        self.counts = {"module kills": 0, "grandchild kills": 0, "stops": 0, "daemon kills": 0}
        self.pending = []  # (module, old pid, deadline)
        self.recovered = 0
        self.unrecovered = []
        self.duplicates = []
        self.samples = {name: [0, 0] for name in MODULES}

    def start_daemon(self):
        self.daemon = subprocess.Popen([f"{self.bin}/superbot", "--config", f"{self.dir}/config"], cwd=self.dir,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline and self.status() is None:
            time.sleep(0.05)

    def status(self):
        try:
            r = subprocess.run([f"{self.bin}/superbot-cli", "--socket", self.sock, "--timeout", "5", "--json", "status"],
                               capture_output=True, timeout=10)
        except subprocess.TimeoutExpired:
            return None
        if r.returncode != 0:
            return None
        try:
            return {m["name"]: m for m in json.loads(r.stdout)}
        except ValueError:
            return None

    def run_id(self):
        with open(f"{self.dir}/.superbot/run-id") as f:
            return f.read().strip()

    def mains(self, procs):
        found = {name: [] for name in MODULES}
        for pid, (module, cmdline) in procs.items():
            if module in MODULES and cmdline == MODULES[module][1]:
                found[module].append(pid)
        return found

    def step(self, rng):
        procs = marked(self.run_id())
        mains = self.mains(procs)
        for module, pids in mains.items():
            if len(pids) > 1:
                self.duplicates.append((module, pids))
        action = rng.random()
        if action < 0.55:
            module = rng.choice(list(MODULES))
            if mains[module]:
                pid = mains[module][0]
                os.kill(pid, signal.SIGKILL)
                self.counts["module kills"] += 1
                self.pending.append((module, pid, time.time() + 30))
        elif action < 0.80:
            children = [pid for pid, (m, cmd) in procs.items() if m in MODULES and cmd != MODULES[m][1]]
            if children:
                os.kill(rng.choice(children), signal.SIGKILL)
                self.counts["grandchild kills"] += 1
        elif action < 0.95:
            module = rng.choice(list(MODULES))
            if mains[module]:
                pid = mains[module][0]
                os.kill(pid, signal.SIGSTOP)
                time.sleep(rng.uniform(0.1, 0.5))
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                self.counts["stops"] += 1
        else:
            self.daemon.send_signal(signal.SIGKILL)
            self.daemon.wait()
            self.counts["daemon kills"] += 1
            self.start_daemon()

    def check_recoveries(self, final=False):
        status = self.status()
        still = []
        for module, old, deadline in self.pending:
            state = (status or {}).get(module, {})
            if state.get("state") == "running" and state.get("pid") not in (None, old):
                self.recovered += 1
            elif final or time.time() > deadline:
                self.unrecovered.append((module, old))
            else:
                still.append((module, old, deadline))
        self.pending = still
        if status:
            for name in MODULES:
                self.samples[name][0] += status.get(name, {}).get("state") == "running"
                self.samples[name][1] += 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=".build/debug")
    p.add_argument("--seconds", type=float, default=600)
    p.add_argument("--seed", type=int, default=int(time.time()))
    args = p.parse_args()
    bin_dir = os.path.abspath(args.bin)
    rng = random.Random(args.seed)
    workdir = tempfile.mkdtemp(prefix="sbchaos-")
    os.makedirs(f"{workdir}/config")
    with open(f"{workdir}/config/daemon.yaml", "w") as f:
        f.write(config())
    chaos = Chaos(bin_dir, workdir)
    chaos.start_daemon()
    try:
        deadline = time.time() + 3
        while time.time() < deadline:
            status = chaos.status() or {}
            if all(status.get(m, {}).get("state") == "running" for m in MODULES):
                break
            time.sleep(0.1)
        run_id = chaos.run_id()
        end = time.time() + args.seconds
        while time.time() < end:
            chaos.step(rng)
            time.sleep(rng.uniform(0.05, 0.4))
            chaos.check_recoveries()
        settle = time.time() + 30
        while chaos.pending and time.time() < settle:
            time.sleep(0.2)
            chaos.check_recoveries()
        chaos.check_recoveries(final=True)
        subprocess.run([f"{bin_dir}/superbot-cli", "--socket", chaos.sock, "daemon", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        chaos.daemon.wait(timeout=60)
        time.sleep(0.5)
        orphans = marked(run_id)
    finally:
        if chaos.daemon and chaos.daemon.poll() is None:
            chaos.daemon.kill()
        for pid in marked(chaos.run_id()) if os.path.exists(f"{workdir}/.superbot/run-id") else []:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(workdir, ignore_errors=True)

    uptime = {m: 100.0 * up / max(1, n) for m, (up, n) in chaos.samples.items()}
    print(f"chaos: {args.seconds:.0f} s, seed {args.seed}")
    for key, value in chaos.counts.items():
        print(f"  {key:<17} {value}")
    print(f"  {'recoveries':<17} {chaos.recovered} of {chaos.counts['module kills']} module kills")
    print(f"  {'unrecovered':<17} {len(chaos.unrecovered)} {chaos.unrecovered[:5]}")
    print(f"  {'orphans':<17} {len(orphans)} {list(orphans.items())[:5]}")
    print(f"  {'duplicates':<17} {len(chaos.duplicates)} {chaos.duplicates[:5]}")
    print("  module uptime    " + ", ".join(f"{m} {u:.1f} %" for m, u in uptime.items()))
    sys.exit(1 if orphans or chaos.duplicates or chaos.unrecovered else 0)


main()

"""`superbot-cli status` against a stand-in for runit's `sv status`, and against /bin/true.

runit is not installable on this machine, so `svstatus` (status/svstatus.c) does what
`sv status` does: it reads the files runsv keeps (supervise/ok, supervise/status) and prints
sv's line. Here those files describe the same `sleep` processes the SuperBot daemon runs: the
FIFO is held open by this script, as runsv would, and the status record carries the pid.
`spawntime` (status/spawntime.c) times each command from posix_spawn to exit, alternating
the order every round; this prints each round's medians and the medians over rounds.
"""
import argparse
import os
import statistics
import struct
import subprocess
import tempfile
import time

from supervisor_bench import SuperBot, cleanup_markers, sleepers, wait_for


def runit_service(root, name, pid):
    """A service directory as runsv leaves it while `pid` runs: supervise/ok held open, status."""
    os.makedirs(f"{root}/{name}/supervise", exist_ok=True)
    os.mkfifo(f"{root}/{name}/supervise/ok")
    reader = os.open(f"{root}/{name}/supervise/ok", os.O_RDONLY | os.O_NONBLOCK)
    now = time.time()
    record = struct.pack(">QL", 4611686018427387914 + int(now), int(now % 1 * 1e9))
    record += struct.pack("<L", pid) + b"\x00u\x00\x01"
    with open(f"{root}/{name}/supervise/status", "wb") as f:
        f.write(record)
    return reader


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--superbot", required=True)
    p.add_argument("--superbot-cli", required=True)
    p.add_argument("--svstatus", required=True)
    p.add_argument("--spawntime", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--calls", type=int, default=400, help="calls of each command per round")
    args = p.parse_args()
    root = tempfile.mkdtemp(prefix="statusbench-", dir=os.getcwd() + "/.build")
    sup = SuperBot(args, root, 3)
    daemon = sup.start()
    try:
        pids = sorted(wait_for(lambda: len(sleepers(daemon)) >= 3 and sleepers(daemon)))
        readers = [runit_service(f"{root}/sv", f"m{i}", pid) for i, pid in enumerate(pids)]
        cli = sup.status_command()
        wait_for(lambda: subprocess.run(cli, stdout=subprocess.DEVNULL).returncode == 0)
        sv = [args.svstatus]
        commands = {
            "/bin/true (starting a process)": ["/bin/true"],
            "sv status, 1 service (stand-in)": sv + [f"{root}/sv/m0"],
            "superbot-cli --help (its own start, no daemon)": [args.superbot_cli, "--help"],
            "superbot-cli status m0": cli + ["m0"],
            "superbot-cli status (3 modules)": cli,
        }
        argv = [args.spawntime, str(args.calls)]
        for command in commands.values():
            argv += command + ["--"]
        per_round = {label: [] for label in commands}
        print(f"# status round trip — {os.cpu_count()} cores, {args.rounds} rounds of {args.calls} calls each",
              flush=True)
        for r in range(args.rounds):
            out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.splitlines()
            for label, line in zip(commands, out):
                per_round[label].append(float(line.split("\t")[1]))
            print(f"round {r + 1}: " + ", ".join(f"{label} {v[-1]:.3f} ms" for label, v in per_round.items()),
                  flush=True)
        sv_median = statistics.median(per_round["sv status, 1 service (stand-in)"])
        print("\n| command | median ms | / sv status |")
        print("|---|---:|---:|")
        for label, values in per_round.items():
            m = statistics.median(values)
            print(f"| {label} | {m:.3f} | {m / sv_median:.2f}× |")
        for fd in readers:
            os.close(fd)
    finally:
        sup.stop()
        cleanup_markers(sup)


if __name__ == "__main__":
    main()

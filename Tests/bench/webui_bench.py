"""The web UI vs FastAPI + uvicorn serving the same /engines/status JSON, in one run.

Starts the real system (superbot, exchange-sim, trading-engine, webui from .build/release) on the
shipped config, captures its /engines/status answer, and serves those bytes from FastAPI's memory
twice over: as a dict FastAPI encodes per request (the usual way) and as a pre-encoded Response
(FastAPI's fastest). Each server is pinned to core 0, the load generator to core 1.
  - closed loop: wrk -t1 -c10, requests/s;
  - open loop: 1,000 requests/s on 10 connections, latency from each request's due time
    (Tests/bench/httpbench, wrk2-style);
  - RSS of the serving process after the runs.
Then, ours only: SSE fan-out to 100 clients at 1,000 bus events/s (publish → client), and
/engines/status with 500 engines. Medians over --reps rounds, contenders alternating order.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REL = os.path.join(ROOT, ".build", "release")
BENCH = os.path.join(ROOT, ".build", "bench")
VENV = os.path.join(ROOT, ".build", "bench-venv", "bin")

FASTAPI_APP = '''
import json, os
from fastapi import FastAPI
from fastapi.responses import Response
raw = open(os.environ["ENGINES_JSON"], "rb").read()
data = json.loads(raw)
app = FastAPI()

@app.get("/engines/status")
async def status():
    return data

@app.get("/engines/status/raw")
async def status_raw():
    return Response(raw, media_type="application/json")
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(what, predicate, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def fetch(url):
    return urllib.request.urlopen(url, timeout=5).read()


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pin(pid, cpu):
    subprocess.run(["taskset", "-a", "-c", "-p", str(cpu), str(pid)], check=True, capture_output=True)


class System:
    """The shipped config in a scratch directory, on free ports, with `symbols` engines."""

    def __init__(self, symbols=None):
        self.dir = tempfile.mkdtemp(prefix="webui-bench-", dir=BENCH)
        shutil.copytree(os.path.join(ROOT, "config"), os.path.join(self.dir, "config"))
        self.web, sim = free_port(), free_port()
        daemon = open(os.path.join(self.dir, "config", "daemon.yaml")).read()
        daemon = daemon.replace("8080", str(self.web)).replace("8081", str(sim))
        daemon = daemon.replace("autostart: [exchange-sim, trading, webui, heartbeat]",
                                "autostart: [exchange-sim, trading, webui]")
        open(os.path.join(self.dir, "config", "daemon.yaml"), "w").write(daemon)
        trading = open(os.path.join(self.dir, "config", "trading.yaml")).read().replace("8081", str(sim))
        if symbols:
            start, end = trading.index("  symbols:\n"), trading.index("  engine_defaults:")
            listed = "".join(f"    {s}: {{}}\n" for s in symbols)
            trading = trading[:start] + "  symbols:\n" + listed + trading[end:]
            # 500 engines would spend Binance's request weight (6,000 a minute) many times over.
            trading = trading.replace("cycle_interval: 1.0", "cycle_interval: 5.0")
            trading = trading.replace("weight_limit: 6000", "weight_limit: 10000000")
        open(os.path.join(self.dir, "config", "trading.yaml"), "w").write(trading)
        self.count = len(symbols) if symbols else 15
        self.proc = subprocess.Popen([os.path.join(REL, "superbot"), "--config", "config"], cwd=self.dir,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.web}"
        self.socket = os.path.join(self.dir, ".superbot", "superbot.sock")
        try:
            wait("the engines", lambda: json.loads(fetch(self.url + "/engines/status"))["running"] == self.count, 180)
        except BaseException:
            self.stop()
            raise
        status = subprocess.run([os.path.join(REL, "superbot-cli"), "--socket", self.socket, "--json", "status",
                                 "webui"], capture_output=True, text=True).stdout
        self.webui_pid = next(m["pid"] for m in json.loads(status) if m["name"] == "webui")

    def stop(self):
        subprocess.run([os.path.join(REL, "superbot-cli"), "--socket", self.socket, "daemon", "stop"],
                       capture_output=True, timeout=120)
        self.proc.wait(timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port, path, seconds, pid):
    """Closed loop: requests/s, and the server's CPU time per request (µs) and use of its core.
    One wrk thread on one core can be the limit before a fast server is: the CPU figures say so."""
    before = cpu_seconds(pid)
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c10", f"-d{seconds}s",
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pid) - before
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{path}: {errors.group(1)} error responses\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, used / requests * 1e6, used / seconds


def open_loop(port, path, rate, seconds):
    out = subprocess.run(["taskset", "-c", "1", os.path.join(BENCH, "httpbench"), "open", str(port), path,
                          str(rate), str(seconds), "10"], capture_output=True, text=True)
    if not out.stdout:
        raise SystemExit(f"httpbench failed: {out.stderr}")
    # A server that cannot keep up finishes late: its latencies (from the due times) say so.
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--part", choices=["all", "fastapi", "500"], default="all")
    args = parser.parse_args()
    os.makedirs(BENCH, exist_ok=True)
    if args.part in ("all", "fastapi"):
        versus_fastapi(args)
    if args.part in ("all", "500"):
        five_hundred(args)


def versus_fastapi(args):
    system = System()
    uvicorn = None
    try:
        body = fetch(system.url + "/engines/status")
        engines_json = os.path.join(system.dir, "engines.json")
        open(engines_json, "wb").write(body)
        app_dir = os.path.join(system.dir, "fastapi")
        os.makedirs(app_dir)
        open(os.path.join(app_dir, "engines_app.py"), "w").write(FASTAPI_APP)
        fport = free_port()
        uvicorn = subprocess.Popen(
            ["taskset", "-c", "0", os.path.join(VENV, "uvicorn"), "engines_app:app", "--port", str(fport),
             "--log-level", "warning", "--no-access-log"],
            cwd=app_dir, env=dict(os.environ, ENGINES_JSON=engines_json),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait("uvicorn", lambda: fetch(f"http://127.0.0.1:{fport}/engines/status/raw") == body, 30)
        pin(system.webui_pid, 0)
        contenders = [("superbot webui", system.web, "/engines/status"),
                      ("FastAPI (dict)", fport, "/engines/status"),
                      ("FastAPI (pre-encoded)", fport, "/engines/status/raw")]
        pids = {"superbot webui": system.webui_pid, "FastAPI (dict)": uvicorn.pid, "FastAPI (pre-encoded)": uvicorn.pid}
        results = {name: {"rps": [], "us": [], "core": [], "p50": [], "p99": [], "p999": []}
                   for name, _, _ in contenders}
        for rep in range(args.reps):
            order = contenders if rep % 2 == 0 else list(reversed(contenders))
            for name, port, path in order:
                rps, us, core = wrk(port, path, args.seconds, pids[name])
                results[name]["rps"].append(rps)
                results[name]["us"].append(us)
                results[name]["core"].append(core)
                o = open_loop(port, path, 1000, args.seconds * 2)
                print(f"round {rep + 1} {name}: {results[name]['rps'][-1]:,.0f} req/s; open loop {json.dumps(o)}",
                      file=sys.stderr, flush=True)
                results[name]["p50"].append(o["p50_ms"])
                results[name]["p99"].append(o["p99_ms"])
                results[name]["p999"].append(o["p999_ms"])
        rss = {"superbot webui": rss_kb(system.webui_pid), "FastAPI (dict)": rss_kb(uvicorn.pid)}
        rss["FastAPI (pre-encoded)"] = rss["FastAPI (dict)"]
        med = {n: {k: statistics.median(v) for k, v in r.items()} for n, r in results.items()}
        ours = med["superbot webui"]
        print(f"\n/engines/status, 15 engines ({len(body)} bytes), medians of {args.reps} rounds, "
              f"server on core 0, load on core 1")
        print("| server | closed loop c10 (req/s) | server CPU per request (µs), core used | "
              "open loop 1k req/s p50 / p99 / p99.9 (ms) | RSS (MB) |")
        print("|---|---:|---:|---:|---:|")
        for name, _, _ in contenders:
            m = med[name]
            print(f"| {name} | {m['rps']:,.0f} | {m['us']:.1f} µs, {m['core'] * 100:.0f} % | "
                  f"{m['p50']:.2f} / {m['p99']:.2f} / {m['p999']:.2f} | {rss[name] / 1024:.1f} |")
        for name in ["FastAPI (dict)", "FastAPI (pre-encoded)"]:
            m = med[name]
            print(f"superbot vs {name}: throughput {ours['rps'] / m['rps']:.1f}×, CPU per request "
                  f"{m['us'] / ours['us']:.1f}× less, p99 {ours['p99'] / m['p99']:.2f}×, "
                  f"RSS {rss['superbot webui'] / rss[name]:.2f}×")
        print("raw:", json.dumps(results))

        # SSE fan-out: 100 clients, 1,000 bus events/s.
        out = subprocess.run(["taskset", "-c", "1", os.path.join(BENCH, "httpbench"), "sse", str(system.web),
                              "/api/v1/events", "100", system.socket, "1000", str(args.seconds)],
                             capture_output=True, text=True)
        sse = json.loads(out.stdout)
        print(f"\nSSE fan-out: 100 clients × 1,000 events/s for {args.seconds} s: "
              f"{sse['received']:,} of {sse['expected']:,} delivered, publish → client p50 "
              f"{sse['p50_ms']:.2f} ms, p99 {sse['p99_ms']:.2f} ms, max {sse['max_ms']:.1f} ms")
    finally:
        if uvicorn:
            uvicorn.send_signal(signal.SIGTERM)
            uvicorn.wait()
        system.stop()



def five_hundred(args):
    """/engines/status with 500 engines (cycling every 5 s, so the machine is not only trading)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    symbols = [f"{letters[i // 26 % 26]}{letters[i % 26]}X{i}USDT" for i in range(500)]
    big = System(symbols)
    try:
        pin(big.webui_pid, 0)
        body = fetch(big.url + "/engines/status")
        runs = [wrk(big.web, "/engines/status", args.seconds, big.webui_pid) for _ in range(args.reps)]
        rps = statistics.median(r[0] for r in runs)
        o = open_loop(big.web, "/engines/status", 200, args.seconds * 2)
        print(f"\n/engines/status with 500 engines ({len(body) / 1024:.0f} KiB): {rps:,.0f} req/s closed loop c10; "
              f"200 req/s open loop p50 {o['p50_ms']:.2f} ms, p99 {o['p99_ms']:.2f} ms; webui RSS "
              f"{rss_kb(big.webui_pid) / 1024:.1f} MB")
    finally:
        big.stop()


if __name__ == "__main__":
    main()

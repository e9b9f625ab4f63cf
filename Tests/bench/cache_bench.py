"""cache.get through the daemon vs GET on Redis, from the same kind of client (one Python
socket, one request at a time, over Unix sockets): p50/p99 round trip and ops/s. Three
rounds with the order rotated; medians. Prints a Markdown table.

usage: cache_bench.py MEMORY_SOCK REDIS_BACKED_SOCK REDIS_SOCK [N]
"""
import socket
import statistics
import sys
import time

memory_sock, backed_sock, redis_sock = sys.argv[1:4]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
VALUE = '{"symbol":"BTCUSDT","price":"65000.12000000"}'


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def read_line(s, buf):
    while b"\n" not in buf[0]:
        buf[0] += s.recv(65536)
    line, buf[0] = buf[0].split(b"\n", 1)
    return line


def daemon_client(path):
    s, buf = connect(path), [b""]
    s.sendall(('{"jsonrpc":"2.0","id":0,"method":"cache.set","params":{"key":"ticker:BTCUSDT","value":%s,"ttl":3600}}\n' % VALUE).encode())
    read_line(s, buf)
    req = b'{"jsonrpc":"2.0","id":1,"method":"cache.get","params":{"key":"ticker:BTCUSDT"}}\n'

    def get():
        s.sendall(req)
        line = read_line(s, buf)
        assert b'"hit":true' in line, line
    return get


def redis_client(path):
    s, buf = connect(path), [b""]
    v = VALUE.encode()
    s.sendall(b"*3\r\n$3\r\nSET\r\n$14\r\nticker:BTCUSDT\r\n$%d\r\n%s\r\n" % (len(v), v))
    read_line(s, buf)
    req = b"*2\r\n$3\r\nGET\r\n$14\r\nticker:BTCUSDT\r\n"

    def get():
        s.sendall(req)
        header = read_line(s, buf)
        assert header.startswith(b"$"), header
        want = int(header[1:]) + 2
        while len(buf[0]) < want:
            buf[0] += s.recv(65536)
        buf[0] = buf[0][want:]
    return get


def measure(get):
    for _ in range(500):
        get()
    times = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        get()
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    times.sort()
    return {"p50": times[len(times) // 2] * 1e6, "p99": times[int(len(times) * 0.99)] * 1e6, "ops": n / total}


contenders = {
    "daemon cache.get (memory backend)": lambda: daemon_client(memory_sock),
    "daemon cache.get (redis backend)": lambda: daemon_client(backed_sock),
    "Redis GET": lambda: redis_client(redis_sock),
}
results = {k: [] for k in contenders}
names = list(contenders)
for r in range(3):
    for name in names[r:] + names[:r]:
        results[name].append(measure(contenders[name]()))
redis_ops = statistics.median(x["ops"] for x in results["Redis GET"])
print("| client → server, one request at a time | p50 µs | p99 µs | ops/s | ops/s vs Redis GET |")
print("|---|---:|---:|---:|---:|")
for name in names:
    m = {k: statistics.median(x[k] for x in results[name]) for k in ("p50", "p99", "ops")}
    print(f"| {name} | {m['p50']:.1f} | {m['p99']:.1f} | {m['ops']:,.0f} | {m['ops'] / redis_ops:.2f}× |")
print(f"\n{n:,} sequential gets per run, 3 runs with the order rotated, medians.")

/*
 * busbench.c - minimal pub/sub load generator for Redis (RESP) and NATS (text protocol).
 * SuperBot: copied from shared/bench/busbench with one addition, the `superbot` backend
 * (JSON-RPC 2.0 lines over the daemon's Unix socket: bus.subscribe / bus.publish / bus.message).
 *
 * One publisher connection, N subscriber connections, all in one process:
 *   - publisher thread (blocking socket)
 *   - T subscriber threads (default 1), each an epoll loop over its share of the N sockets
 *   - sampler thread reading the broker's /proc/<pid>/status VmRSS every 50 ms
 *
 * Payload: fixed 100-byte JSON price tick; "seq" and "mono" (CLOCK_MONOTONIC ns at send)
 * are written into fixed-width digit fields so the receiver can read them at fixed offsets.
 *
 * Build: gcc -O2 -Wall -pthread -o busbench busbench.c
 * Usage: see usage() below. Prints one JSON line per run on stdout.
 *
 * Every loop is bounded: setup reads have 5 s timeouts, the run has hard deadlines,
 * drain waits are capped.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <errno.h>
#include <time.h>
#include <signal.h>
#include <pthread.h>
#include <poll.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

enum { B_REDIS, B_NATS, B_SUPERBOT };
enum { M_TPUT, M_LAT };

static int g_broker = B_REDIS, g_mode = M_TPUT, g_nsubs = 1, g_pattern = 0, g_batch = 64;
static int g_subthreads = 1, g_broker_pid = 0;
static double g_duration = 5.0, g_warmup = 1.0;
static long g_rate = 10000;
static const char *g_addr = "unix:run/redis.sock";
static const char *g_label = "";
static const char *g_subject = "price.BTCUSDT.update";
static const char *g_pat = "price.*.update";

static volatile int g_stop_pub = 0, g_stop_subs = 0, g_stop_sampler = 0;
static uint64_t g_published = 0;          /* written by pub thread */
static uint64_t g_late_sends = 0, g_max_lag_ns = 0, g_reply_mismatch = 0;
static uint64_t g_pub_t_start = 0, g_pub_t_end = 0;

#define PAYLOAD_LEN 100
static char g_payload[PAYLOAD_LEN + 1];
static int OFF_SEQ, OFF_MONO;
#define SEQ_W 10
#define MONO_W 18

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "busbench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static inline void put_digits(char *p, uint64_t v, int w)
{
    for (int i = w - 1; i >= 0; i--) { p[i] = (char)('0' + v % 10); v /= 10; }
}
static inline uint64_t get_digits(const char *p, int w)
{
    uint64_t v = 0;
    for (int i = 0; i < w; i++) v = v * 10 + (uint64_t)(p[i] - '0');
    return v;
}

static void init_payload(void)
{
    int n;
    if (g_broker == B_SUPERBOT) {
        /* Same 100 bytes, but valid JSON (a JSON bus parses what it relays): zero-padded
         * numbers are not JSON numbers, so the fixed-width counters are strings here. */
        n = snprintf(g_payload, sizeof g_payload,
            "{\"symbol\":\"BTC\",\"price\":50123.45,\"ts\":1700000000.123,"
            "\"seq\":\"%0*d\",\"mono\":\"%0*d\"}", SEQ_W, 0, MONO_W, 0);
        OFF_SEQ = (int)(strstr(g_payload, "\"seq\":") - g_payload) + 7;
        OFF_MONO = (int)(strstr(g_payload, "\"mono\":") - g_payload) + 8;
    } else {
        n = snprintf(g_payload, sizeof g_payload,
            "{\"symbol\":\"BTCUSDT\",\"price\":50123.45,\"ts\":1700000000.123,"
            "\"seq\":%0*d,\"mono\":%0*d}", SEQ_W, 0, MONO_W, 0);
        OFF_SEQ = (int)(strstr(g_payload, "\"seq\":") - g_payload) + 6;
        OFF_MONO = (int)(strstr(g_payload, "\"mono\":") - g_payload) + 7;
    }
    if (n != PAYLOAD_LEN) die("payload length %d != %d", n, PAYLOAD_LEN);
}

/* ---------------------------------------------------------------- sockets */

static int dial(const char *addr)
{
    int fd = -1;
    for (int attempt = 0; attempt < 50; attempt++) {   /* bounded: <= 5 s */
        if (!strncmp(addr, "unix:", 5)) {
            struct sockaddr_un sa;
            memset(&sa, 0, sizeof sa);
            sa.sun_family = AF_UNIX;
            snprintf(sa.sun_path, sizeof sa.sun_path, "%s", addr + 5);
            fd = socket(AF_UNIX, SOCK_STREAM, 0);
            if (fd < 0) die("socket: %s", strerror(errno));
            if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) return fd;
        } else if (!strncmp(addr, "tcp:", 4)) {
            char host[256];
            const char *colon = strrchr(addr + 4, ':');
            if (!colon) die("bad tcp address %s", addr);
            size_t hl = (size_t)(colon - (addr + 4));
            if (hl >= sizeof host) die("host too long");
            memcpy(host, addr + 4, hl);
            host[hl] = 0;
            struct sockaddr_in sa;
            memset(&sa, 0, sizeof sa);
            sa.sin_family = AF_INET;
            sa.sin_port = htons((uint16_t)atoi(colon + 1));
            if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) die("bad host %s", host);
            fd = socket(AF_INET, SOCK_STREAM, 0);
            if (fd < 0) die("socket: %s", strerror(errno));
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) return fd;
        } else {
            die("address must be unix:/path or tcp:host:port");
        }
        close(fd);
        usleep(100000);
    }
    die("could not connect to %s", addr);
    return -1;
}

static void write_all(int fd, const char *p, size_t n)
{
    int spins = 0;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd pf = { .fd = fd, .events = POLLOUT };
                if (poll(&pf, 1, 5000) <= 0 || ++spins > 100000) die("write stalled");
                continue;
            }
            die("write: %s", strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
}

/* read with timeout (ms); returns bytes, dies on EOF/timeout */
static size_t read_some(int fd, char *buf, size_t cap, int timeout_ms)
{
    for (int tries = 0; tries < 1000; tries++) {
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        int pr = poll(&pf, 1, timeout_ms);
        if (pr == 0) die("read timeout (%d ms)", timeout_ms);
        if (pr < 0) { if (errno == EINTR) continue; die("poll: %s", strerror(errno)); }
        ssize_t r = read(fd, buf, cap);
        if (r == 0) die("connection closed by broker");
        if (r < 0) { if (errno == EINTR || errno == EAGAIN) continue; die("read: %s", strerror(errno)); }
        return (size_t)r;
    }
    die("read_some: too many retries");
    return 0;
}

/* ---------------------------------------------------------------- RESP parsing */

typedef struct { const char *p; long long len; int is_int; long long ival; } relem_t;

static const char *parse_int_line(const char *p, const char *end, long long *out)
{
    long long v = 0;
    int neg = 0;
    if (p < end && *p == '-') { neg = 1; p++; }
    while (p < end && *p != '\r') { v = v * 10 + (*p - '0'); p++; }
    if (end - p < 2) return NULL;
    *out = neg ? -v : v;
    return p + 2;
}

/* >0: bytes consumed; 0: incomplete; -1: protocol error.
 * *nel = number of array elements, or -1 for a non-array line (stored in el[0]). */
static long resp_parse(const char *buf, size_t n, relem_t *el, int maxel, int *nel)
{
    const char *p = buf, *end = buf + n;
    if (n == 0) return 0;
    if (*p != '*') {
        const char *nl = memchr(p, '\n', n);
        if (!nl) return 0;
        el[0].p = p;
        el[0].len = nl - p;
        el[0].is_int = 0;
        *nel = -1;
        return nl + 1 - buf;
    }
    long long cnt;
    p = parse_int_line(p + 1, end, &cnt);
    if (!p) return 0;
    if (cnt < 0 || cnt > maxel) return -1;
    for (long long i = 0; i < cnt; i++) {
        if (p >= end) return 0;
        char t = *p;
        const char *q;
        if (t == '$') {
            long long L;
            q = parse_int_line(p + 1, end, &L);
            if (!q) return 0;
            if (L < 0 || (end - q) < L + 2) return (L < 0) ? -1 : 0;
            el[i].p = q; el[i].len = L; el[i].is_int = 0;
            p = q + L + 2;
        } else if (t == ':') {
            long long v;
            q = parse_int_line(p + 1, end, &v);
            if (!q) return 0;
            el[i].is_int = 1; el[i].ival = v; el[i].p = NULL; el[i].len = 0;
            p = q;
        } else {
            return -1;
        }
    }
    *nel = (int)cnt;
    return p - buf;
}

/* ---------------------------------------------------------------- subscriber side */

typedef struct {
    int fd;
    char *buf;
    size_t len, cap;
    uint64_t count;      /* messages received; single writer, relaxed atomic store */
    uint64_t expect_seq, gaps, reorder, badlen;
    int closed;
} conn_t;

typedef struct {
    conn_t **conns;
    int nconns;
    uint64_t *samples;   /* latency samples in ns (lat mode) */
    size_t nsamp, capsamp;
    uint64_t warm_seq;
} subthr_t;

#define CONN_BUF (1 << 20)

static inline void on_msg(subthr_t *t, conn_t *c, const char *pl, long long plen, uint64_t trecv)
{
    if (plen != PAYLOAD_LEN) {
        c->badlen++;
    } else {
        uint64_t seq = get_digits(pl + OFF_SEQ, SEQ_W);
        if (seq != c->expect_seq) {
            if (seq > c->expect_seq) c->gaps += seq - c->expect_seq;
            else c->reorder++;
        }
        c->expect_seq = seq + 1;
        if (g_mode == M_LAT && seq >= t->warm_seq && t->nsamp < t->capsamp) {
            uint64_t mono = get_digits(pl + OFF_MONO, MONO_W);
            t->samples[t->nsamp++] = trecv - mono;
        }
    }
    __atomic_store_n(&c->count, c->count + 1, __ATOMIC_RELAXED);
}

static size_t parse_redis_sub(subthr_t *t, conn_t *c, uint64_t trecv)
{
    size_t off = 0;
    while (off < c->len) {
        relem_t el[4];
        int nel = 0;
        long r = resp_parse(c->buf + off, c->len - off, el, 4, &nel);
        if (r == 0) break;
        if (r < 0) die("RESP protocol error on subscriber");
        off += (size_t)r;
        if (nel == 3 && el[0].len == 7 && !memcmp(el[0].p, "message", 7))
            on_msg(t, c, el[2].p, el[2].len, trecv);
        else if (nel == 4 && el[0].len == 8 && !memcmp(el[0].p, "pmessage", 8))
            on_msg(t, c, el[3].p, el[3].len, trecv);
        else if (nel == -1 && el[0].p[0] == '-')
            fprintf(stderr, "redis error: %.*s\n", (int)el[0].len, el[0].p);
    }
    return off;
}

/* SuperBot: one JSON object per line; the payload is the verbatim `data` member, which the
 * daemon always writes last: {"jsonrpc":"2.0","method":"bus.message","params":{...,"data":PAYLOAD}} */
static size_t parse_superbot_sub(subthr_t *t, conn_t *c, uint64_t trecv)
{
    size_t off = 0;
    while (off < c->len) {
        char *line = c->buf + off;
        char *nl = memchr(line, '\n', c->len - off);
        if (!nl) break;
        size_t ll = (size_t)(nl - line);
        char *d = memmem(line, ll, ",\"data\":", 8);
        if (d && ll > 40 && !memcmp(line + 27, "bus.message", 11)) {
            char *pl = d + 8;
            on_msg(t, c, pl, (long long)(nl - 2 - pl), trecv);
        } else if (memmem(line, ll, "\"error\"", 7)) {
            fprintf(stderr, "superbot error: %.*s\n", (int)ll, line);
        }
        off += ll + 1;
    }
    return off;
}

static size_t parse_nats_sub(subthr_t *t, conn_t *c, uint64_t trecv)
{
    size_t off = 0;
    while (off < c->len) {
        char *p = c->buf + off;
        size_t rem = c->len - off;
        char *nl = memchr(p, '\n', rem);
        if (!nl) break;
        size_t linelen = (size_t)(nl - p) + 1;
        if (rem >= 4 && p[0] == 'M' && p[1] == 'S' && p[2] == 'G' && p[3] == ' ') {
            char *e = nl - 1;               /* '\r' */
            char *s = e;
            while (s > p && s[-1] != ' ') s--;
            size_t nb = 0;
            for (char *q = s; q < e; q++) nb = nb * 10 + (size_t)(*q - '0');
            if (rem < linelen + nb + 2) break;
            on_msg(t, c, p + linelen, (long long)nb, trecv);
            off += linelen + nb + 2;
        } else {
            if (rem >= 4 && !memcmp(p, "PING", 4)) write_all(c->fd, "PONG\r\n", 6);
            else if (p[0] == '-') fprintf(stderr, "nats error: %.*s\n", (int)linelen, p);
            off += linelen;
        }
    }
    return off;
}

static void *sub_main(void *arg)
{
    subthr_t *t = arg;
    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    for (int i = 0; i < t->nconns; i++) {
        conn_t *c = t->conns[i];
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
    }
    /* hard bound: warmup + duration + 60 s */
    uint64_t hard_deadline = now_ns() + (uint64_t)((g_warmup + g_duration + 60.0) * 1e9);
    struct epoll_event evs[64];
    while (!g_stop_subs) {
        int n = epoll_wait(ep, evs, 64, 20);
        if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                c->closed = 1;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                continue;
            }
            if (r < 0) continue;
            uint64_t trecv = now_ns();
            c->len += (size_t)r;
            size_t off = (g_broker == B_REDIS) ? parse_redis_sub(t, c, trecv)
                         : (g_broker == B_SUPERBOT) ? parse_superbot_sub(t, c, trecv)
                                                    : parse_nats_sub(t, c, trecv);
            if (off) {
                memmove(c->buf, c->buf + off, c->len - off);
                c->len -= off;
            }
            if (c->len == c->cap) die("subscriber buffer full (frame too large?)");
        }
        if (now_ns() > hard_deadline) break;
    }
    close(ep);
    return NULL;
}

/* ---------------------------------------------------------------- setup handshakes */

/* Accumulate lines from fd until one starting with `want` arrives (NATS). */
static void nats_wait_line(int fd, const char *want)
{
    char buf[8192];
    size_t len = 0;
    uint64_t deadline = now_ns() + 5000000000ull;
    while (now_ns() < deadline) {
        if (len == sizeof buf) die("nats handshake overflow");
        len += read_some(fd, buf + len, sizeof buf - len, 5000);
        size_t off = 0;
        for (;;) {
            char *nl = memchr(buf + off, '\n', len - off);
            if (!nl) break;
            size_t ll = (size_t)(nl - (buf + off)) + 1;
            if (buf[off] == '-') die("nats error: %.*s", (int)ll, buf + off);
            if (!strncmp(buf + off, want, strlen(want))) return;
            if (!strncmp(buf + off, "PING", 4)) write_all(fd, "PONG\r\n", 6);
            off += ll;
        }
        memmove(buf, buf + off, len - off);
        len -= off;
    }
    die("nats handshake timeout waiting for %s", want);
}

static void nats_connect(int fd)
{
    nats_wait_line(fd, "INFO");
    const char *cmd =
        "CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false,"
        "\"name\":\"busbench\",\"lang\":\"c\",\"version\":\"0.1\",\"protocol\":1,"
        "\"echo\":false}\r\nPING\r\n";
    write_all(fd, cmd, strlen(cmd));
    nats_wait_line(fd, "PONG");
}

static void setup_sub(conn_t *c)
{
    c->fd = dial(g_addr);
    c->cap = CONN_BUF;
    c->buf = malloc(c->cap);
    if (!c->buf) die("oom");
    char cmd[512];
    if (g_broker == B_REDIS) {
        const char *verb = g_pattern ? "PSUBSCRIBE" : "SUBSCRIBE";
        const char *ch = g_pattern ? g_pat : g_subject;
        int n = snprintf(cmd, sizeof cmd, "*2\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n",
                         strlen(verb), verb, strlen(ch), ch);
        write_all(c->fd, cmd, (size_t)n);
        uint64_t deadline = now_ns() + 5000000000ull;
        while (now_ns() < deadline) {
            c->len += read_some(c->fd, c->buf + c->len, c->cap - c->len, 5000);
            relem_t el[4];
            int nel;
            long r = resp_parse(c->buf, c->len, el, 4, &nel);
            if (r < 0) die("bad subscribe reply");
            if (r > 0) {
                if (nel != 3 || el[0].is_int || (el[0].len != 9 && el[0].len != 10))
                    die("unexpected subscribe reply: %.*s", (int)c->len, c->buf);
                memmove(c->buf, c->buf + r, c->len - (size_t)r);
                c->len -= (size_t)r;
                return;
            }
        }
        die("subscribe timeout");
    } else if (g_broker == B_SUPERBOT) {
        int n = snprintf(cmd, sizeof cmd, "{\"jsonrpc\":\"2.0\",\"method\":\"bus.subscribe\",\"params\":{\"pattern\":\"%s\"},\"id\":1}\n",
                         g_pattern ? g_pat : g_subject);
        write_all(c->fd, cmd, (size_t)n);
        uint64_t deadline = now_ns() + 5000000000ull;
        while (now_ns() < deadline) {
            c->len += read_some(c->fd, c->buf + c->len, c->cap - c->len, 5000);
            char *nl = memchr(c->buf, '\n', c->len);
            if (nl) {
                if (!memmem(c->buf, (size_t)(nl - c->buf), "\"result\"", 8)) die("subscribe failed: %.*s", (int)(nl - c->buf), c->buf);
                size_t r = (size_t)(nl - c->buf) + 1;
                memmove(c->buf, c->buf + r, c->len - r);
                c->len -= r;
                return;
            }
        }
        die("subscribe timeout");
    } else {
        nats_connect(c->fd);
        int n = snprintf(cmd, sizeof cmd, "SUB %s 1\r\nPING\r\n", g_pattern ? g_pat : g_subject);
        write_all(c->fd, cmd, (size_t)n);
        nats_wait_line(c->fd, "PONG");
    }
}

/* ---------------------------------------------------------------- publisher */

typedef struct { int fd; } pub_t;

static size_t build_cmd(char *out)
{
    size_t n;
    if (g_broker == B_REDIS)
        n = (size_t)sprintf(out, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$%d\r\n%s\r\n",
                            strlen(g_subject), g_subject, PAYLOAD_LEN, g_payload);
    else if (g_broker == B_SUPERBOT)
        n = (size_t)sprintf(out, "{\"jsonrpc\":\"2.0\",\"method\":\"bus.publish\",\"params\":{\"topic\":\"%s\",\"data\":%s},\"id\":1}\n",
                            g_subject, g_payload);
    else
        n = (size_t)sprintf(out, "PUB %s %d\r\n%s\r\n", g_subject, PAYLOAD_LEN, g_payload);
    return n;
}

/* Redis reply reader: consume `want` integer replies (":N\r\n"); counts N != nsubs. */
typedef struct { char buf[65536]; size_t len; } rbuf_t;

static void redis_read_replies(int fd, rbuf_t *rb, uint64_t want, int blocking)
{
    uint64_t got = 0;
    uint64_t deadline = now_ns() + 10000000000ull;
    while (got < want) {
        /* parse complete lines already buffered */
        size_t off = 0;
        while (got < want) {
            char *nl = memchr(rb->buf + off, '\n', rb->len - off);
            if (!nl) break;
            if (rb->buf[off] == ':') {
                long long v = 0;
                for (char *q = rb->buf + off + 1; *q != '\r'; q++) v = v * 10 + (*q - '0');
                if (v != g_nsubs) g_reply_mismatch++;
            } else if (g_broker == B_SUPERBOT && rb->buf[off] == '{') {
                /* {"jsonrpc":"2.0","id":1,"result":{"delivered":N}} */
                char *d = memmem(rb->buf + off, (size_t)(nl - (rb->buf + off)), "\"delivered\":", 12);
                if (!d) die("unexpected publish reply: %.*s", (int)(nl - (rb->buf + off)), rb->buf + off);
                long long v = 0;
                for (char *q = d + 12; *q >= '0' && *q <= '9'; q++) v = v * 10 + (*q - '0');
                if (v != g_nsubs) g_reply_mismatch++;
            } else {
                die("unexpected publish reply: %.*s", (int)(nl - (rb->buf + off)), rb->buf + off);
            }
            off = (size_t)(nl - rb->buf) + 1;
            got++;
        }
        memmove(rb->buf, rb->buf + off, rb->len - off);
        rb->len -= off;
        if (got >= want) break;
        if (!blocking) {
            ssize_t r = recv(fd, rb->buf + rb->len, sizeof rb->buf - rb->len, MSG_DONTWAIT);
            if (r <= 0) {
                if (r == 0) die("publisher connection closed");
                return;        /* nothing more right now */
            }
            rb->len += (size_t)r;
            /* keep parsing but only what's there; want is an upper bound in non-blocking mode */
            continue;
        }
        if (now_ns() > deadline) die("publisher reply timeout");
        rb->len += read_some(fd, rb->buf + rb->len, sizeof rb->buf - rb->len, 5000);
    }
}

static void *pub_tput_main(void *arg)
{
    pub_t *pb = arg;
    char one[512];
    size_t clen = build_cmd(one);
    size_t ping = (g_broker == B_NATS) ? 6 : 0;
    size_t blen = clen * (size_t)g_batch + ping;
    char *bb = malloc(blen);
    if (!bb) die("oom");
    size_t pl_off = (size_t)(strstr(one, g_payload) - one);
    for (int k = 0; k < g_batch; k++) memcpy(bb + (size_t)k * clen, one, clen);
    if (ping) memcpy(bb + clen * (size_t)g_batch, "PING\r\n", 6);
    rbuf_t *rb = calloc(1, sizeof *rb);
    uint64_t seq = 0;
    uint64_t hard_deadline = now_ns() + (uint64_t)((g_warmup + g_duration + 30.0) * 1e9);
    g_pub_t_start = now_ns();
    while (!g_stop_pub && now_ns() < hard_deadline) {
        uint64_t t = now_ns();
        for (int k = 0; k < g_batch; k++) {
            char *pl = bb + (size_t)k * clen + pl_off;
            put_digits(pl + OFF_SEQ, seq + (uint64_t)k, SEQ_W);
            put_digits(pl + OFF_MONO, t, MONO_W);
        }
        write_all(pb->fd, bb, blen);
        if (g_broker != B_NATS) redis_read_replies(pb->fd, rb, (uint64_t)g_batch, 1);
        else nats_wait_line(pb->fd, "PONG");
        seq += (uint64_t)g_batch;
        __atomic_store_n(&g_published, seq, __ATOMIC_RELAXED);
    }
    g_pub_t_end = now_ns();
    free(bb);
    free(rb);
    return NULL;
}

static void *pub_lat_main(void *arg)
{
    pub_t *pb = arg;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    char one[512];
    size_t clen = build_cmd(one);
    char *pl = one + (strstr(one, g_payload) - one);
    rbuf_t *rb = calloc(1, sizeof *rb);
    uint64_t interval = 1000000000ull / (uint64_t)g_rate;
    uint64_t total = (uint64_t)((double)g_rate * (g_warmup + g_duration));
    uint64_t start = now_ns() + 1000000ull;
    uint64_t hard_deadline = start + (uint64_t)((g_warmup + g_duration + 30.0) * 1e9);
    g_pub_t_start = start;
    uint64_t seq;
    for (seq = 0; seq < total && !g_stop_pub; seq++) {
        uint64_t target = start + seq * interval;
        struct timespec ts = { .tv_sec = (time_t)(target / 1000000000ull),
                               .tv_nsec = (long)(target % 1000000000ull) };
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
        uint64_t t = now_ns();
        if (t > hard_deadline) break;
        uint64_t lag = t - target;
        if (lag > g_max_lag_ns) g_max_lag_ns = lag;
        if (lag > interval) g_late_sends++;
        put_digits(pl + OFF_SEQ, seq, SEQ_W);
        put_digits(pl + OFF_MONO, t, MONO_W);
        write_all(pb->fd, one, clen);
        if (g_broker != B_NATS) redis_read_replies(pb->fd, rb, UINT64_MAX, 0); /* drain, non-blocking */
        __atomic_store_n(&g_published, seq + 1, __ATOMIC_RELAXED);
    }
    g_pub_t_end = now_ns();
    if (g_broker == B_NATS) {
        write_all(pb->fd, "PING\r\n", 6);
        nats_wait_line(pb->fd, "PONG");
    }
    free(rb);
    return NULL;
}

/* ---------------------------------------------------------------- broker stats */

static long read_rss_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) { kb = atol(line + 6); break; }
    fclose(f);
    return kb;
}

static double read_cpu_s(int pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    unsigned long ut = 0, st = 0;
    /* after ") " : state(3) ... utime is field 14, stime 15 */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long g_rss_max = -1;
static void *sampler_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000 && !g_stop_sampler; i++) {   /* <= ~1000 s */
        long kb = read_rss_kb(g_broker_pid);
        if (kb > g_rss_max) g_rss_max = kb;
        usleep(50000);
    }
    return NULL;
}

/* ---------------------------------------------------------------- main */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void sleep_s(double s)
{
    struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}

static uint64_t sum_counts(conn_t *cs, int n)
{
    uint64_t s = 0;
    for (int i = 0; i < n; i++) s += __atomic_load_n(&cs[i].count, __ATOMIC_RELAXED);
    return s;
}

static void usage(void)
{
    fprintf(stderr,
        "usage: busbench [options]\n"
        "  -b redis|nats|superbot  broker protocol (default redis)\n"
        "  -a ADDR            unix:/path or tcp:127.0.0.1:PORT\n"
        "  -m tput|lat        throughput (publish flat out) or latency (fixed rate)\n"
        "  -n N               subscriber connections (default 1)\n"
        "  -p                 pattern subscription (PSUBSCRIBE / SUB wildcard) to price.*.update\n"
        "  -B N               tput: publish batch (pipeline) size; 1 = wait for each reply (default 64)\n"
        "  -d SEC             measurement window (default 5)\n"
        "  -w SEC             warmup (default 1)\n"
        "  -r RATE            lat: messages/s (default 10000)\n"
        "  -T N               subscriber threads (default 1)\n"
        "  -P PID             broker pid for RSS / CPU sampling\n"
        "  -l LABEL           label echoed in the JSON output\n");
    exit(1);
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "b:a:m:n:pB:d:w:r:T:P:l:h")) != -1) {
        switch (opt) {
        case 'b': g_broker = !strcmp(optarg, "nats") ? B_NATS : !strcmp(optarg, "superbot") ? B_SUPERBOT : B_REDIS; break;
        case 'a': g_addr = optarg; break;
        case 'm': g_mode = !strcmp(optarg, "lat") ? M_LAT : M_TPUT; break;
        case 'n': g_nsubs = atoi(optarg); break;
        case 'p': g_pattern = 1; break;
        case 'B': g_batch = atoi(optarg); break;
        case 'd': g_duration = atof(optarg); break;
        case 'w': g_warmup = atof(optarg); break;
        case 'r': g_rate = atol(optarg); break;
        case 'T': g_subthreads = atoi(optarg); break;
        case 'P': g_broker_pid = atoi(optarg); break;
        case 'l': g_label = optarg; break;
        default: usage();
        }
    }
    if (g_nsubs < 1 || g_nsubs > 1000 || g_batch < 1 || g_batch > 4096 || g_subthreads < 1 ||
        g_duration <= 0 || g_duration > 120 || g_warmup < 0 || g_warmup > 60 ||
        g_rate < 1 || g_rate > 1000000)
        usage();
    if (g_subthreads > g_nsubs) g_subthreads = g_nsubs;
    signal(SIGPIPE, SIG_IGN);
    init_payload();

    conn_t *conns = calloc((size_t)g_nsubs, sizeof *conns);
    for (int i = 0; i < g_nsubs; i++) setup_sub(&conns[i]);
    pub_t pb = { .fd = dial(g_addr) };
    if (g_broker == B_NATS) nats_connect(pb.fd);

    subthr_t *st = calloc((size_t)g_subthreads, sizeof *st);
    uint64_t warm_seq = (uint64_t)((double)g_rate * g_warmup);
    for (int t = 0; t < g_subthreads; t++) {
        st[t].conns = calloc((size_t)g_nsubs, sizeof(conn_t *));
        for (int i = t; i < g_nsubs; i += g_subthreads) st[t].conns[st[t].nconns++] = &conns[i];
        st[t].warm_seq = warm_seq;
        if (g_mode == M_LAT) {
            st[t].capsamp = (size_t)st[t].nconns * (size_t)((double)g_rate * g_duration * 1.05 + 1000);
            st[t].samples = malloc(st[t].capsamp * sizeof(uint64_t));
            if (!st[t].samples) die("oom samples");
        }
    }

    long rss_before = g_broker_pid ? read_rss_kb(g_broker_pid) : -1;
    pthread_t sampler, pth, sth[64];
    if (g_subthreads > 64) die("too many sub threads");
    if (g_broker_pid) pthread_create(&sampler, NULL, sampler_main, NULL);
    for (int t = 0; t < g_subthreads; t++) pthread_create(&sth[t], NULL, sub_main, &st[t]);
    pthread_create(&pth, NULL, g_mode == M_TPUT ? pub_tput_main : pub_lat_main, &pb);

    double bcpu0 = -1, bcpu1 = -1, ccpu0, ccpu1;
    uint64_t t0, t1, r0 = 0, r1 = 0, p0 = 0, p1 = 0;
    if (g_mode == M_TPUT) {
        sleep_s(g_warmup);
        t0 = now_ns();
        r0 = sum_counts(conns, g_nsubs);
        p0 = __atomic_load_n(&g_published, __ATOMIC_RELAXED);
        if (g_broker_pid) bcpu0 = read_cpu_s(g_broker_pid);
        ccpu0 = self_cpu_s();
        sleep_s(g_duration);
        t1 = now_ns();
        r1 = sum_counts(conns, g_nsubs);
        p1 = __atomic_load_n(&g_published, __ATOMIC_RELAXED);
        if (g_broker_pid) bcpu1 = read_cpu_s(g_broker_pid);
        ccpu1 = self_cpu_s();
        g_stop_pub = 1;
        pthread_join(pth, NULL);
    } else {
        sleep_s(g_warmup);
        t0 = now_ns();
        if (g_broker_pid) bcpu0 = read_cpu_s(g_broker_pid);
        ccpu0 = self_cpu_s();
        pthread_join(pth, NULL);
        t1 = now_ns();
        if (g_broker_pid) bcpu1 = read_cpu_s(g_broker_pid);
        ccpu1 = self_cpu_s();
    }
    /* drain: wait (bounded, 10 s) until every subscriber got every published message */
    uint64_t published = __atomic_load_n(&g_published, __ATOMIC_RELAXED);
    uint64_t expected = published * (uint64_t)g_nsubs;
    uint64_t drain_start = now_ns();
    for (int i = 0; i < 2000; i++) {
        if (sum_counts(conns, g_nsubs) >= expected) break;
        int open = 0;
        for (int k = 0; k < g_nsubs; k++) open += !conns[k].closed;
        if (!open) break;
        usleep(5000);
    }
    double drain_s = (double)(now_ns() - drain_start) / 1e9;
    g_stop_subs = 1;
    for (int t = 0; t < g_subthreads; t++) pthread_join(sth[t], NULL);
    long rss_after = g_broker_pid ? read_rss_kb(g_broker_pid) : -1;
    g_stop_sampler = 1;
    if (g_broker_pid) pthread_join(sampler, NULL);

    uint64_t delivered = sum_counts(conns, g_nsubs), gaps = 0, reorder = 0, badlen = 0;
    int closed = 0;
    for (int i = 0; i < g_nsubs; i++) {
        gaps += conns[i].gaps; reorder += conns[i].reorder; badlen += conns[i].badlen;
        closed += conns[i].closed;
    }
    double win = (double)(t1 - t0) / 1e9;

    printf("{\"label\":\"%s\",\"broker\":\"%s\",\"addr\":\"%s\",\"mode\":\"%s\",\"subs\":%d,"
           "\"pattern\":%d,\"batch\":%d,\"sub_threads\":%d,\"window_s\":%.3f,",
           g_label, g_broker == B_REDIS ? "redis" : g_broker == B_SUPERBOT ? "superbot" : "nats", g_addr,
           g_mode == M_TPUT ? "tput" : "lat", g_nsubs, g_pattern,
           g_mode == M_TPUT ? g_batch : 1, g_subthreads, win);
    if (g_mode == M_TPUT) {
        printf("\"pub_rate\":%.0f,\"deliv_rate\":%.0f,\"deliv_rate_per_sub\":%.0f,",
               (double)(p1 - p0) / win, (double)(r1 - r0) / win,
               (double)(r1 - r0) / win / g_nsubs);
    } else {
        size_t tot = 0;
        for (int t = 0; t < g_subthreads; t++) tot += st[t].nsamp;
        uint64_t *all = malloc((tot ? tot : 1) * sizeof(uint64_t));
        size_t k = 0;
        double sum = 0;
        for (int t = 0; t < g_subthreads; t++)
            for (size_t i = 0; i < st[t].nsamp; i++) { all[k++] = st[t].samples[i]; sum += (double)st[t].samples[i]; }
        qsort(all, tot, sizeof(uint64_t), cmp_u64);
#define PCT(q) (tot ? (double)all[(size_t)((double)(tot - 1) * (q))] / 1000.0 : -1.0)
        double send_rate = (double)published / ((double)(g_pub_t_end - g_pub_t_start) / 1e9);
        printf("\"rate_target\":%ld,\"send_rate\":%.0f,\"lat_n\":%zu,\"lat_mean_us\":%.2f,"
               "\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"max_us\":%.2f,"
               "\"late_sends\":%llu,\"max_sched_lag_us\":%.1f,",
               g_rate, send_rate, tot, tot ? sum / (double)tot / 1000.0 : -1.0,
               PCT(0.50), PCT(0.90), PCT(0.99), PCT(0.999), tot ? (double)all[tot - 1] / 1000.0 : -1.0,
               (unsigned long long)g_late_sends, (double)g_max_lag_ns / 1000.0);
        free(all);
    }
    printf("\"published\":%llu,\"delivered\":%llu,\"expected\":%llu,\"gaps\":%llu,\"reorder\":%llu,"
           "\"badlen\":%llu,\"closed_subs\":%d,\"reply_mismatch\":%llu,\"drain_s\":%.3f,"
           "\"broker_pid\":%d,\"broker_rss_kb_before\":%ld,\"broker_rss_kb_max\":%ld,"
           "\"broker_rss_kb_after\":%ld,\"broker_cpu_pct\":%.1f,\"client_cpu_pct\":%.1f}\n",
           (unsigned long long)published, (unsigned long long)delivered,
           (unsigned long long)expected, (unsigned long long)gaps, (unsigned long long)reorder,
           (unsigned long long)badlen, closed, (unsigned long long)g_reply_mismatch, drain_s,
           g_broker_pid, rss_before, g_rss_max, rss_after,
           (g_broker_pid && bcpu0 >= 0) ? 100.0 * (bcpu1 - bcpu0) / win : -1.0,
           100.0 * (ccpu1 - ccpu0) / win);
    fflush(stdout);
    return (closed || delivered < expected) ? 3 : 0;
}

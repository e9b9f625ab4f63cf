/* httpbench: the web UI benchmark's load generators (Tests/bench/webui-bench.sh).
 *
 *   httpbench open PORT PATH RATE SECONDS CONNS
 *     Open loop (wrk2-style): request i is due at start + i/RATE whatever the server does; it goes
 *     out on the first idle keep-alive connection, and its latency counts from when it was due,
 *     so a server that falls behind is charged for the queue (no coordinated omission).
 *
 *   httpbench sse PORT PATH CLIENTS DAEMON_SOCKET RATE SECONDS
 *     CLIENTS Server-Sent Events streams on PATH; bus.publish notifications on the daemon's socket
 *     at RATE per second carrying their wall-clock send time; latency = arrival - send, per client.
 *
 * Both print one JSON object: counts and latency percentiles in milliseconds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double wall(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *v, long n, double p) {
  if (n == 0) return -1;
  long i = (long)(p * n);
  if (i >= n) i = n - 1;
  return v[i] * 1000;
}

static int tcp(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); exit(1); }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

typedef struct {
  int fd;
  double due; /* < 0: idle */
  char buf[1 << 20];
  long len;
} conn;

/* Length of a complete response at the start of buf, or 0. */
static long complete(const char *buf, long len) {
  const char *end = memmem(buf, len, "\r\n\r\n", 4);
  if (!end) return 0;
  long head = end - buf + 4, body = 0;
  for (const char *p = buf; p < end; p++) {
    if ((p == buf || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) body = atol(p + 15);
  }
  return len >= head + body ? head + body : 0;
}

static int open_loop(int port, const char *path, double rate, double seconds, int nconn) {
  char req[512];
  int reqlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
  conn *c = calloc(nconn, sizeof(conn));
  int ep = epoll_create1(0);
  for (int i = 0; i < nconn; i++) {
    c[i].fd = tcp(port);
    c[i].due = -1;
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = i};
    epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &e);
  }
  long total = (long)(rate * seconds), next = 0, done = 0, errors = 0, queued_head = 0, reconnects = 0;
  double *lat = calloc(total + 1, sizeof(double));
  double start = mono() + 0.05, deadline = start + seconds + 5;
  while (done + errors < total && mono() < deadline) {
    double now = mono();
    /* Hand every request that is due to an idle connection, oldest first. */
    while (queued_head < total && start + queued_head / rate <= now) {
      int idle = -1;
      for (int i = 0; i < nconn; i++) if (c[i].due < 0) { idle = i; break; }
      if (idle < 0) break;
      c[idle].due = start + queued_head / rate;
      if (send(c[idle].fd, req, reqlen, MSG_NOSIGNAL) != reqlen) { errors++; c[idle].due = -1; }
      queued_head++;
    }
    next = queued_head;
    double wait = next < total ? start + next / rate - mono() : 0.01;
    int timeout = wait > 0.001 ? (int)(wait * 1000) : 0;
    struct epoll_event ev[64];
    int n = epoll_wait(ep, ev, 64, timeout);
    for (int k = 0; k < n; k++) {
      conn *x = &c[ev[k].data.u32];
      for (;;) {
        ssize_t r = recv(x->fd, x->buf + x->len, sizeof x->buf - x->len, 0);
        if (r > 0) { x->len += r; continue; }
        if (r == 0) {
          /* The server closed a keep-alive connection (uvicorn does after its keep-alive timeout):
             reconnect, and send again what was in flight (it keeps its due time). */
          epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
          close(x->fd);
          x->fd = tcp(port);
          x->len = 0;
          struct epoll_event e = {.events = EPOLLIN, .data.u32 = ev[k].data.u32};
          epoll_ctl(ep, EPOLL_CTL_ADD, x->fd, &e);
          reconnects++;
          if (x->due >= 0 && send(x->fd, req, reqlen, MSG_NOSIGNAL) != reqlen) { errors++; x->due = -1; }
        }
        break;
      }
      long whole;
      while (x->due >= 0 && (whole = complete(x->buf, x->len)) > 0) {
        lat[done++] = mono() - x->due;
        memmove(x->buf, x->buf + whole, x->len - whole);
        x->len -= whole;
        x->due = -1;
      }
    }
  }
  qsort(lat, done, sizeof(double), cmp);
  printf("{\"mode\":\"open\",\"rate\":%.0f,\"sent\":%ld,\"completed\":%ld,\"errors\":%ld,\"reconnects\":%ld,"
         "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
         rate, queued_head, done, errors, reconnects, pct(lat, done, .5), pct(lat, done, .9), pct(lat, done, .99),
         pct(lat, done, .999), done ? lat[done - 1] * 1000 : -1);
  return done == total ? 0 : 1;
}

typedef struct {
  int fd;
  char buf[1 << 16];
  long len;
} stream;

static int sse(int port, const char *path, int clients, const char *socket_path, double rate, double seconds) {
  int ep = epoll_create1(0);
  stream *s = calloc(clients, sizeof(stream));
  char req[512];
  int reqlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
  for (int i = 0; i < clients; i++) {
    s[i].fd = tcp(port);
    send(s[i].fd, req, reqlen, MSG_NOSIGNAL);
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = i};
    epoll_ctl(ep, EPOLL_CTL_ADD, s[i].fd, &e);
  }
  int bus = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, socket_path, sizeof a.sun_path - 1);
  if (connect(bus, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect daemon"); return 1; }
  usleep(500000); /* every stream attached */
  long total = (long)(rate * seconds), published = 0, received = 0, cap = total * clients + 16;
  double *lat = calloc(cap, sizeof(double));
  double start = mono(), deadline = start + seconds + 3;
  while (mono() < deadline && (published < total || received < published * clients)) {
    double now = mono();
    while (published < total && start + published / rate <= now) {
      char line[256];
      int n = snprintf(line, sizeof line,
                       "{\"jsonrpc\":\"2.0\",\"method\":\"bus.publish\",\"params\":{\"topic\":\"system.bench\","
                       "\"data\":{\"sent\":%.6f,\"n\":%ld}}}\n", wall(), published);
      if (write(bus, line, n) != n) { perror("publish"); return 1; }
      published++;
    }
    double wait = published < total ? start + published / rate - mono() : 0.01;
    struct epoll_event ev[128];
    int n = epoll_wait(ep, ev, 128, wait > 0.001 ? (int)(wait * 1000) : 0);
    for (int k = 0; k < n; k++) {
      stream *x = &s[ev[k].data.u32];
      for (;;) {
        ssize_t r = recv(x->fd, x->buf + x->len, sizeof x->buf - 1 - x->len, 0);
        if (r <= 0) break;
        x->len += r;
        x->buf[x->len] = 0;
        double arrived = wall();
        char *line = x->buf, *nl;
        while ((nl = memchr(line, '\n', x->buf + x->len - line))) {
          *nl = 0;
          char *sent = strstr(line, "\"sent\":");
          if (sent && received < cap) lat[received++] = arrived - atof(sent + 7);
          line = nl + 1;
        }
        x->len = x->buf + x->len - line;
        memmove(x->buf, line, x->len);
      }
    }
  }
  qsort(lat, received, sizeof(double), cmp);
  printf("{\"mode\":\"sse\",\"clients\":%d,\"rate\":%.0f,\"published\":%ld,\"expected\":%ld,\"received\":%ld,"
         "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
         clients, rate, published, published * clients, received, pct(lat, received, .5), pct(lat, received, .99),
         received ? lat[received - 1] * 1000 : -1);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 7 && strcmp(argv[1], "open") == 0)
    return open_loop(atoi(argv[2]), argv[3], atof(argv[4]), atof(argv[5]), atoi(argv[6]));
  if (argc == 8 && strcmp(argv[1], "sse") == 0)
    return sse(atoi(argv[2]), argv[3], atoi(argv[4]), argv[5], atof(argv[6]), atof(argv[7]));
  fprintf(stderr, "usage: httpbench open PORT PATH RATE SECONDS CONNS\n"
                  "       httpbench sse PORT PATH CLIENTS DAEMON_SOCKET RATE SECONDS\n");
  return 2;
}

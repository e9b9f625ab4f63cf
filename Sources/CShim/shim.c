#define _GNU_SOURCE
#include <sys/eventfd.h>
#include "CShim.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

const int SB_EPOLL_CTL_ADD = EPOLL_CTL_ADD, SB_EPOLL_CTL_MOD = EPOLL_CTL_MOD, SB_EPOLL_CTL_DEL = EPOLL_CTL_DEL;
const uint32_t SB_EPOLLIN = EPOLLIN, SB_EPOLLOUT = EPOLLOUT, SB_EPOLLERR = EPOLLERR, SB_EPOLLHUP = EPOLLHUP,
               SB_EPOLLRDHUP = EPOLLRDHUP;

int sb_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int sb_epoll_ctl(int epfd, int op, int fd, uint32_t events) {
    struct epoll_event ev = {.events = events, .data = {.fd = fd}};
    return epoll_ctl(epfd, op, fd, &ev);
}

int sb_epoll_wait(int epfd, int *fds, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        fds[i] = evs[i].data.fd;
        events[i] = evs[i].events;
    }
    return n;
}

int sb_signalfd(const int *signals, int count) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int sb_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n == (ssize_t)sizeof info) return (int)info.ssi_signo;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    return -1;
}

int sb_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int sb_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int sb_peer_cred(int fd, uid_t *uid, pid_t *pid) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *uid = cred.uid;
    *pid = cred.pid;
    return 0;
}

int sb_spawnattr_setflags_session(posix_spawnattr_t *attr) {
    return posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

int sb_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int sb_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int sb_accept_nonblocking(int listener) { return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int sb_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int sb_wall_timerfd(void) { return timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC); }

int sb_wall_timerfd_arm(int fd, int64_t seconds, long nanos) {
    struct itimerspec spec;
    memset(&spec, 0, sizeof spec);
    spec.it_value.tv_sec = (time_t)seconds;
    spec.it_value.tv_nsec = nanos;
    return timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, NULL);
}

int sb_wall_timerfd_read(int fd) {
    uint64_t expirations = 0;
    ssize_t n = read(fd, &expirations, sizeof expirations);
    if (n == (ssize_t)sizeof expirations) return 1;
    if (errno == ECANCELED) return 2;
    if (errno == EAGAIN) return 0;
    return -1;
}

// clone3's arguments up to `cgroup` (CLONE_ARGS_SIZE_VER2), declared here because
// <linux/sched.h> redefines glibc's CLONE_* macros.
struct sb_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#define SB_CLONE_VFORK 0x00004000ULL
#define SB_CLONE_INTO_CGROUP 0x200000000ULL
#define SB_CLOSE_RANGE_CLOEXEC (1U << 2)

// The child, a copy of the calling thread only (no CLONE_VM: it runs on its own copy of the
// stack, like a fork): only async-signal-safe calls until execve. Returns the errno to report
// and sets `*step` to what failed.
static int sb_spawn_child(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd,
                          const char *cwd, int *step) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) (void)sigaction(sig, &dfl, NULL);
    }
    *step = SB_SPAWN_STEP_SETSID;
    if (setsid() < 0) return errno;
    *step = SB_SPAWN_STEP_STDIO;
    if (in_fd >= 0) {
        if (dup2(in_fd, 0) < 0) return errno;
    } else {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0) return errno;
        if (fd != 0) {
            if (dup2(fd, 0) < 0) return errno;
            close(fd);
        }
    }
    if (out_fd >= 0) {
        if (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0) return errno;
    } else {
        int fd = open("/dev/null", O_WRONLY);
        if (fd < 0) return errno;
        if ((fd != 1 && dup2(fd, 1) < 0) || dup2(1, 2) < 0) return errno;
        if (fd > 2) close(fd);
    }
    *step = SB_SPAWN_STEP_CHDIR;
    if (cwd != NULL && chdir(cwd) != 0) return errno;
    // Close-on-exec rather than closed: the error pipe must stay open until execve.
    if (syscall(SYS_close_range, 3U, ~0U, SB_CLOSE_RANGE_CLOEXEC) != 0) {
        for (int fd = 3; fd < 65536; fd++) (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    sigset_t empty;
    sigemptyset(&empty);
    *step = SB_SPAWN_STEP_EXEC;
    if (sigprocmask(SIG_SETMASK, &empty, NULL) != 0) return errno;
    execve(path, argv, envp);
    return errno;
}

pid_t sb_spawn_into_cgroup(int cgroup_fd, const char *path, char *const argv[], char *const envp[], int in_fd,
                           int out_fd, const char *cwd, int *failed_step) {
    *failed_step = 0;
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -errno;
    // No signal handler may run in the child before its dispositions are reset.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    struct sb_clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = SB_CLONE_VFORK | SB_CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        int failure[2] = {0, 0};
        failure[1] = sb_spawn_child(path, argv, envp, in_fd, out_fd, cwd, &failure[0]);
        (void)!write(report[1], failure, sizeof failure);
        _exit(127);
    }
    int clone_error = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        return -clone_error;
    }
    // CLONE_VFORK: the child has exec'd (EOF) or failed (its step and errno) by now.
    int failure[2] = {0, 0};
    ssize_t n;
    do n = read(report[0], failure, sizeof failure);
    while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof failure) {
        while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR) {}
        *failed_step = failure[0];
        return -failure[1];
    }
    return (pid_t)pid;
}

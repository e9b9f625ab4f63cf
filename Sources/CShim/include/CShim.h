#ifndef SUPERBOT_CSHIM_H
#define SUPERBOT_CSHIM_H

#include <stdint.h>
#include <sys/types.h>
#include <spawn.h>

/// epoll without the packed `struct epoll_event` (which Swift imports awkwardly).
int sb_epoll_create(void);
int sb_epoll_ctl(int epfd, int op, int fd, uint32_t events);
int sb_epoll_wait(int epfd, int *fds, uint32_t *events, int max, int timeout_ms);

extern const int SB_EPOLL_CTL_ADD, SB_EPOLL_CTL_MOD, SB_EPOLL_CTL_DEL;
extern const uint32_t SB_EPOLLIN, SB_EPOLLOUT, SB_EPOLLERR, SB_EPOLLHUP, SB_EPOLLRDHUP;

/// Blocks `signals` in the calling thread and returns a non-blocking, close-on-exec signalfd for them.
int sb_signalfd(const int *signals, int count);
/// Reads one pending signal from a signalfd; returns the signal number, 0 if none, -1 on error.
int sb_signalfd_read(int fd);

int sb_pidfd_open(pid_t pid);
/// A non-blocking, close-on-exec eventfd: how another thread wakes an event loop.
int sb_eventfd(void);
int sb_set_child_subreaper(void);
/// A non-blocking, close-on-exec timerfd on CLOCK_REALTIME.
int sb_wall_timerfd(void);
/// Arms it for the absolute wall-clock time `seconds.nanos` (0 disarms), with
/// TFD_TIMER_CANCEL_ON_SET so that setting the clock wakes the reader too.
int sb_wall_timerfd_arm(int fd, int64_t seconds, long nanos);
/// Reads the timerfd: 1 expired, 0 nothing yet, 2 the clock was set (ECANCELED), -1 error.
int sb_wall_timerfd_read(int fd);
/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC; -1 when nothing is pending.
int sb_accept_nonblocking(int listener);
/// Peer credentials of a Unix socket (SO_PEERCRED).
int sb_peer_cred(int fd, uid_t *uid, pid_t *pid);

/// `_GNU_SOURCE` parts of posix_spawn.
int sb_spawnattr_setflags_session(posix_spawnattr_t *attr);
int sb_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);
int sb_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// Starts `path` with the same hygiene as our posix_spawn (default dispositions, empty mask,
/// new session, stdin from `in_fd` or /dev/null, stdout and stderr to `out_fd` or /dev/null,
/// `cwd`, descriptors >= 3 closed) but born inside the cgroup v2 directory `cgroup_fd`:
/// clone3 with CLONE_INTO_CGROUP, as glibc >= 2.41's posix_spawnattr_setcgroup_np does.
/// Returns the pid, or -errno with `*failed_step` 0 when no child could be made (clone3 missing
/// or refused: fall back), or the SB_SPAWN_STEP_* the child failed at.
pid_t sb_spawn_into_cgroup(int cgroup_fd, const char *path, char *const argv[], char *const envp[], int in_fd,
                           int out_fd, const char *cwd, int *failed_step);
enum { SB_SPAWN_STEP_SETSID = 1, SB_SPAWN_STEP_STDIO = 2, SB_SPAWN_STEP_CHDIR = 3, SB_SPAWN_STEP_EXEC = 4 };

#endif

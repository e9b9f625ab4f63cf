/* What runit's `sv status SERVICE` does, for a status benchmark on a machine where runit is
 * not installable: check that a supervisor holds supervise/ok open (a FIFO it reads), read the
 * 20-byte supervise/status record, look for a `down` file, and print one line in sv's format,
 *   run: SERVICE: (pid 123) 45s
 * It asks no process anything: the floor for a status that reads files a supervisor keeps.
 *   usage: svstatus SERVICE_DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: svstatus SERVICE_DIR\n");
        return 100;
    }
    const char *service = argv[1];
    if (chdir(service) == -1) {
        printf("fail: %s: unable to change to service directory: %s\n", service, strerror(errno));
        return 1;
    }
    int ok = open("supervise/ok", O_WRONLY | O_NONBLOCK);
    if (ok == -1) {
        printf("fail: %s: runsv not running\n", service);
        return 1;
    }
    close(ok);
    int fd = open("supervise/status", O_RDONLY);
    unsigned char s[20];
    if (fd == -1 || read(fd, s, sizeof s) != (ssize_t)sizeof s) {
        printf("warning: %s: unable to read supervise/status\n", service);
        return 1;
    }
    close(fd);
    uint64_t tai = 0;
    for (int i = 0; i < 8; i++) tai = tai << 8 | s[i];
    uint32_t pid = (uint32_t)s[12] | (uint32_t)s[13] << 8 | (uint32_t)s[14] << 16 | (uint32_t)s[15] << 24;
    int64_t since = (int64_t)(tai - 4611686018427387914ULL);
    int64_t up = (int64_t)time(NULL) - since;
    if (up < 0) up = 0;
    struct stat st;
    int normally_down = stat("down", &st) == 0;
    if (pid)
        printf("run: %s: (pid %u) %llds%s\n", service, pid, (long long)up, normally_down ? ", normally down" : "");
    else
        printf("down: %s: %llds%s\n", service, (long long)up, normally_down ? "" : ", normally up");
    return 0;
}

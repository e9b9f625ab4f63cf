/* Times whole commands, start to exit, the way an operator's shell runs them: posix_spawn, then
 * waitpid, stdout and stderr to /dev/null. Each round runs every command once, in an order that
 * alternates from round to round; prints each command's median and 10th/90th percentiles in ms.
 *   usage: spawntime ROUNDS CMD [ARGS...] -- CMD [ARGS...] -- ...
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 0;
    char **commands[32];
    int count = 0;
    for (int i = 2; i < argc && count < 32;) {
        commands[count++] = &argv[i];
        while (i < argc && strcmp(argv[i], "--") != 0) i++;
        if (i < argc) argv[i++] = NULL;
    }
    if (rounds < 1 || count == 0) {
        fprintf(stderr, "usage: spawntime ROUNDS CMD [ARGS...] -- CMD [ARGS...] -- ...\n");
        return 2;
    }
    double *times = malloc(sizeof(double) * (size_t)rounds * (size_t)count);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    for (int r = 0; r < rounds; r++) {
        for (int j = 0; j < count; j++) {
            int c = r % 2 ? count - 1 - j : j;
            pid_t pid;
            int status;
            double start = now_ms();
            if (posix_spawn(&pid, commands[c][0], &actions, NULL, commands[c], environ) != 0) {
                perror(commands[c][0]);
                return 1;
            }
            waitpid(pid, &status, 0);
            times[c * rounds + r] = now_ms() - start;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "%s failed (status %d)\n", commands[c][0], status);
                return 1;
            }
        }
    }
    for (int c = 0; c < count; c++) {
        double *t = times + c * rounds;
        qsort(t, (size_t)rounds, sizeof(double), by_value);
        printf("%s\t%.3f\t%.3f\t%.3f\n", commands[c][0], t[rounds / 2], t[rounds / 10], t[rounds * 9 / 10]);
    }
    return 0;
}

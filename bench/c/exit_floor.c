/*
 * exit_floor: the floor under bench ExitLatency, from C with nothing in between. Spawns
 * exit_stamp (posix_spawn, stdout to a tmpfs file), opens a pidfd for it, blocks in poll() until
 * the pidfd is readable, reaps it with waitid(P_PIDFD), then reads CLOCK_MONOTONIC: that minus the
 * child's own stamp is what any watcher must pay on this machine and kernel (process teardown,
 * the wake-up of a sleeping thread). A JVM library can only add to it.
 *
 * Same protocol as ExitLatency: one child at a time, a pause after each, a sample dropped and
 * redone if the child had already exited when the pidfd was opened (poll with timeout 0 first).
 *
 *   exit_floor [--stamp bench/c/build/exit_stamp] [--samples 2000] [--warmup 200] [--round 50]
 *              [--pause-us 2000] [--child-delay-us 1000] [--dir /dev/shm] [--json out.json]
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static double q(const long long *sorted, int n, double p)
{
    return (double)sorted[(int)(p * (n - 1) + 0.5)];
}

/* One sample: exit-to-reaped nanoseconds, or LLONG_MIN if void (child gone before we watched). */
static long long sample(const char *stamp, const char *delay, const char *file)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_init(&at);
    char *argv[] = {(char *)stamp, (char *)delay, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, stamp, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
        fprintf(stderr, "posix_spawn %s: %s\n", stamp, strerror(rc));
        exit(1);
    }
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        perror("pidfd_open");
        exit(1);
    }
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int early = poll(&p, 1, 0) == 1;
    while (!early && poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED, NULL) != 0) {
        perror("waitid");
        exit(1);
    }
    long long t = now_ns();
    close(pidfd);
    if (si.si_code != CLD_EXITED || si.si_status != 0) {
        fprintf(stderr, "exit_stamp failed: code %d status %d\n", si.si_code, si.si_status);
        exit(1);
    }
    char buf[32] = {0};
    int fd = open(file, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0) {
        fprintf(stderr, "no stamp in %s\n", file);
        exit(1);
    }
    if (early)
        return LLONG_MIN;
    return t - atoll(buf);
}

int main(int argc, char **argv)
{
    const char *stamp = "bench/c/build/exit_stamp", *dir = "/dev/shm", *json = NULL, *delay = "1000";
    int samples = 2000, warmup = 200, round = 50;
    long pause_us = 2000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "missing value for %s\n", a);
            return 2;
        }
        if (!strcmp(a, "--stamp")) stamp = v;
        else if (!strcmp(a, "--samples")) samples = atoi(v);
        else if (!strcmp(a, "--warmup")) warmup = atoi(v);
        else if (!strcmp(a, "--round")) round = atoi(v);
        else if (!strcmp(a, "--pause-us")) pause_us = atol(v);
        else if (!strcmp(a, "--dir")) dir = v;
        else if (!strcmp(a, "--child-delay-us")) delay = v;
        else if (!strcmp(a, "--json")) json = v;
        else {
            fprintf(stderr, "unknown argument %s\n", a);
            return 2;
        }
        i++;
    }
    if (access(stamp, X_OK) != 0) {
        fprintf(stderr, "%s is missing: make -C bench/c stamp\n", stamp);
        return 1;
    }
    char file[4096];
    snprintf(file, sizeof file, "%s/forkless-exit-floor-%d", dir, (int)getpid());
    struct timespec pause = {.tv_sec = pause_us / 1000000, .tv_nsec = (pause_us % 1000000) * 1000};

    long long *v = calloc((size_t)samples, sizeof *v);
    int dropped = 0;
    for (int pass = 0; pass < 2; pass++) {
        int n = pass == 0 ? warmup : samples;
        for (int i = 0; i < n;) {
            long long ns = sample(stamp, delay, file);
            nanosleep(&pause, NULL);
            if (ns == LLONG_MIN) {
                dropped += pass;
                continue;
            }
            if (pass == 1)
                v[i] = ns;
            i++;
        }
    }
    unlink(file);

    long long *s = calloc((size_t)samples, sizeof *s);
    memcpy(s, v, (size_t)samples * sizeof *s);
    qsort(s, (size_t)samples, sizeof *s, cmp_ll);
    printf("exit_floor: exit_stamp's CLOCK_MONOTONIC stamp -> pidfd readable (poll) + waitid, from C; "
           "%d samples after %d warm-up, child sleeps %s µs first, %ld µs pause, %d dropped\n", samples, warmup,
           delay, pause_us, dropped);
    printf("  p50 %.1f µs  p10 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", q(s, samples, .5) / 1e3,
           q(s, samples, .1) / 1e3, q(s, samples, .9) / 1e3, q(s, samples, .99) / 1e3, s[samples - 1] / 1e3);
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            perror(json);
            return 1;
        }
        fprintf(f, "{\"harness\":\"exit_floor\",\"unit\":\"ns\",\"samples\":%d,\"warmup\":%d,\"round\":%d,"
                   "\"pause_us\":%ld,\"child_delay_us\":%ld,\"dropped\":%d,\"ns\":[", samples, warmup, round,
                pause_us, atol(delay), dropped);
        for (int i = 0; i < samples; i++)
            fprintf(f, "%s%lld", i ? "," : "", v[i]);
        fprintf(f, "]}\n");
        fclose(f);
    }
    free(v);
    free(s);
    return 0;
}

/*
 * fl_process_stats: what a running child is doing now (state, CPU time, resident memory,
 * threads), from /proc/<pid>/stat.
 *
 * Strategy. procfs names a process by PID, and a PID is recycled once its process is reaped. The
 * read is therefore made under the handle's lock while the handle says "not reaped": every reap
 * (fl_process_wait, the reactor) takes that lock, so for the duration of the read the PID cannot
 * have been given to anyone else, and what is read is this child. A child that has exited but is
 * not reaped yet (state 'Z') answers -ESRCH like one already reaped: its figures would be those
 * of a corpse.
 *
 * Alternatives. Reading first and checking liveness through the pidfd afterwards also works
 * (a live, unreaped child still owns its PID) but needs the pidfd, which PID-only children lack;
 * taskstats over netlink gives more but needs a socket and privileges for other users' tasks.
 *
 * Hazards. Field 2 (comm) may contain spaces and parentheses: parsing starts after the last ')'.
 * Times are in clock ticks (sysconf(_SC_CLK_TCK)), RSS in pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Parses /proc/<pid>/stat text into *out. 0, or -EIO if it does not look as documented. */
static int parse_stat(char *buf, fl_stats *out) {
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ') return -EIO;
    p += 2;
    /* Fields from 3 on, 1-based as in proc(5): 3 state, 14 utime, 15 stime, 20 num_threads,
     * 24 rss. */
    long long field[25];
    memset(field, 0, sizeof field);
    out->state = *p;
    int n = 3;
    char *save = NULL;
    for (char *tok = strtok_r(p, " ", &save); tok != NULL && n <= 24; tok = strtok_r(NULL, " ", &save), n++) {
        if (n > 3) field[n] = strtoll(tok, NULL, 10);
    }
    if (n <= 24) return -EIO;
    long tck = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    if (tck <= 0 || page <= 0) return -EIO;
    out->user_usec = field[14] * (1000000 / tck);
    out->system_usec = field[15] * (1000000 / tck);
    out->threads = (int)field[20];
    out->rss_kib = field[24] * (page / 1024);
    return 0;
}

int fl_process_stats(fl_process *p, fl_stats *out) {
    if (p == NULL || out == NULL) return -EINVAL;
    memset(out, 0, sizeof *out);
    char path[64];
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)p->pid);
    char buf[1024];
    int rc;
    pthread_mutex_lock(&p->lock);
    if (p->reaped || p->lost) {
        rc = -ESRCH;
    } else {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rc = errno == ENOENT ? -ENOSYS : -errno; /* unreaped yet no entry: no procfs here */
        } else {
            ssize_t len;
            do {
                len = read(fd, buf, sizeof buf - 1);
            } while (len < 0 && errno == EINTR);
            rc = len < 0 ? -errno : 0;
            close(fd);
            if (rc == 0) {
                buf[len] = '\0';
                rc = parse_stat(buf, out);
                if (rc == 0 && (out->state == 'Z' || out->state == 'X')) rc = -ESRCH;
            }
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (rc < 0) memset(out, 0, sizeof *out);
    return rc;
}

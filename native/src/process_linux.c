/*
 * The Linux process handle: wait, signal, close, and the orphan list.
 *
 * With a pidfd every operation names the process itself, not a number: waitid(P_PIDFD) reaps
 * exactly this child and pidfd_send_signal can never reach a process that merely reuses its PID.
 * The raw waitid system call takes a fifth argument, struct rusage *, that glibc's wrapper hides;
 * it gives the child's CPU time and peak RSS at the moment it is reaped.
 *
 * Without a pidfd (kernels before 5.3, or a seccomp profile that denies pidfd_open) the PID is
 * safe only while the child is unreaped, so reaping and signalling both happen under the handle's
 * lock and a reaped handle never signals again. Waiting blocks in waitid(WNOWAIT), which observes
 * the exit without reaping, and then reaps under the lock.
 *
 * Nobody here ever calls waitpid(-1): it would steal children of java.lang.Process, and theirs
 * ours. If someone else does steal ours, waitid reports ECHILD and the handle is marked lost.
 *
 * A handle is reference counted: its owner holds one reference (fl_process_close drops it) and a
 * reactor watching it holds another, so the reactor can still reap a child whose owner closed the
 * handle first and close its pidfd then. When the last reference goes, a child that has not
 * exited yet goes on the orphan list, which is reaped on every spawn and close, so a forgotten
 * child is not a zombie for long. While a reactor holds a reference the handle never goes on the
 * orphan list: the reactor reaps it the moment it exits, and two reapers of one handle would only
 * race for the same status.
 */
#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "sys_linux.h"

static pthread_mutex_t orphans_lock = PTHREAD_MUTEX_INITIALIZER;
static fl_process *orphans;

fl_process *fl_process_new(int64_t pid, int pidfd) {
    fl_process *p = calloc(1, sizeof *p);
    if (p == NULL) return NULL;
    p->pid = pid;
    p->pidfd = pidfd;
    p->refs = 1; /* the owner's */
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

int64_t fl_process_pid(const fl_process *p) { return p->pid; }

fl_fd fl_process_fd(const fl_process *p) { return p->pidfd; }

static int64_t to_usec(struct timeval tv) {
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* Reaps if the child has exited, with p->lock held. 1 = reaped (status set), 0 = still running,
 * -errno otherwise. nohang = 0 blocks (only used once the exit is known). */
static int reap_locked(fl_process *p, int nohang) {
    if (p->reaped) return 1;
    if (p->lost) return -ECHILD;
    siginfo_t si;
    struct rusage ru;
    long rc;
    memset(&si, 0, sizeof si);
    memset(&ru, 0, sizeof ru);
    int options = WEXITED | (nohang ? WNOHANG : 0);
    do {
        if (p->pidfd >= 0) {
            rc = FL_SYS5(SYS_waitid, P_PIDFD, p->pidfd, &si, options, &ru);
        } else {
            rc = FL_SYS5(SYS_waitid, P_PID, p->pid, &si, options, &ru);
        }
    } while (rc == -EINTR);
    if (rc == -ECHILD) {
        p->lost = 1;
        return -ECHILD;
    }
    if (rc < 0) return (int)rc;
    if (si.si_pid == 0) return 0;

    fl_exit_status *st = &p->status;
    if (si.si_code == CLD_EXITED) {
        st->kind = FL_EXITED;
        st->code = si.si_status;
    } else {
        st->kind = FL_SIGNALED;
        st->code = si.si_status;
        st->core_dumped = si.si_code == CLD_DUMPED;
    }
    st->user_usec = to_usec(ru.ru_utime);
    st->system_usec = to_usec(ru.ru_stime);
    st->max_rss_kib = ru.ru_maxrss; /* Linux reports KiB */
    p->reaped = 1;
    return 1;
}

/* The result of a finished handle: 1 with the status, or the reason there is none. */
static int finished_locked(fl_process *p, fl_exit_status *status) {
    if (p->lost) return -ECHILD;
    if (status != NULL) *status = p->status;
    return 1;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Blocks until the pidfd is readable (the child exited) or timeout_ms passes. 1, 0 or -errno. */
static int await_pidfd(int pidfd, int timeout_ms) {
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    int rc = poll(&pfd, 1, timeout_ms);
    if (rc < 0) return -errno;
    return rc > 0;
}

/* PID-only mode: waitid(WNOWAIT) sees the exit without reaping, so the PID stays ours until the
 * reap under the lock. A timed wait polls with a growing sleep: this is the last-resort mode. */
static int await_pid(int64_t pid, int timeout_ms) {
    siginfo_t si;
    if (timeout_ms < 0) {
        memset(&si, 0, sizeof si);
        long rc = FL_SYS5(SYS_waitid, P_PID, pid, &si, WEXITED | WNOWAIT, NULL);
        return rc < 0 ? (int)rc : 1;
    }
    int64_t deadline = now_ms() + timeout_ms;
    long sleep_us = 200;
    for (;;) {
        memset(&si, 0, sizeof si);
        long rc = FL_SYS5(SYS_waitid, P_PID, pid, &si, WEXITED | WNOWAIT | WNOHANG, NULL);
        if (rc < 0) return (int)rc;
        if (si.si_pid != 0) return 1;
        int64_t left_ms = deadline - now_ms();
        if (left_ms <= 0) return 0;
        if (sleep_us > left_ms * 1000) sleep_us = (long)(left_ms * 1000);
        struct timespec ts = {.tv_sec = sleep_us / 1000000, .tv_nsec = (sleep_us % 1000000) * 1000};
        if (nanosleep(&ts, NULL) != 0 && errno == EINTR) return -EINTR;
        if (sleep_us < 20000) sleep_us *= 2;
    }
}

/* The status if the handle already has one (1), or that it has none (-ECHILD), else 0. */
static int known_result(fl_process *p, fl_exit_status *status) {
    pthread_mutex_lock(&p->lock);
    int rc = p->reaped || p->lost ? finished_locked(p, status) : 0;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* Reaps without blocking: 1 with the status, 0 if still running, -errno. */
static int try_reap(fl_process *p, fl_exit_status *status) {
    pthread_mutex_lock(&p->lock);
    int rc = reap_locked(p, 1);
    if (rc == 1) rc = finished_locked(p, status);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int fl_process_wait(fl_process *p, int timeout_ms, fl_exit_status *status) {
    int rc = known_result(p, status);
    if (rc != 0) return rc;
    if (timeout_ms == 0) return try_reap(p, status);

    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    for (;;) {
        /* Block without the lock (other threads may signal or reap meanwhile), then reap. */
        int left = timeout_ms;
        if (timeout_ms > 0) {
            int64_t l = deadline - now_ms();
            left = l > 0 ? (int)l : 0;
        }
        rc = p->pidfd >= 0 ? await_pidfd(p->pidfd, left) : await_pid(p->pid, left);
        if (rc == -ECHILD) return try_reap(p, status); /* reaped by another thread, or stolen */
        if (rc < 0) return rc;
        if (rc == 0) return try_reap(p, status); /* the deadline: one last look */
        /* A thread that reaped it first left the status in the handle; try_reap returns it. */
        rc = try_reap(p, status);
        if (rc != 0) return rc;
    }
}

int fl_process_signal(fl_process *p, int sig) {
    if (sig < 0 || sig >= 65) return -EINVAL;
    pthread_mutex_lock(&p->lock);
    long rc;
    if (p->reaped || p->lost) {
        rc = -ESRCH;
    } else if (p->pidfd >= 0) {
        /* A zombie still accepts signals; "already exited" is the clearer answer. */
        rc = await_pidfd(p->pidfd, 0);
        if (rc == 0) {
            rc = FL_SYS4(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
            /* pidfd_open without pidfd_send_signal (a seccomp profile that knows only one of
             * them): the child is alive and unreaped while we hold the lock, so its PID is
             * still its own. */
            if (rc == -ENOSYS) rc = FL_SYS2(SYS_kill, p->pid, sig);
        } else if (rc > 0) {
            rc = -ESRCH;
        }
    } else {
        /* Unreaped while we hold the lock, so the PID cannot have been recycled. */
        siginfo_t si;
        memset(&si, 0, sizeof si);
        rc = FL_SYS5(SYS_waitid, P_PID, p->pid, &si, WEXITED | WNOWAIT | WNOHANG, NULL);
        if (rc == -ECHILD) {
            p->lost = 1;
            rc = -ESRCH;
        } else if (rc == 0 && si.si_pid != 0) {
            rc = -ESRCH;
        } else if (rc == 0) {
            rc = FL_SYS2(SYS_kill, p->pid, sig);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return (int)rc;
}

int fl_process_signal_group(fl_process *p, int sig) {
    if (p == NULL || sig < 0 || sig >= 65) return -EINVAL;
    pthread_mutex_lock(&p->lock);
    int rc;
    if (p->reaped || p->lost) {
        rc = -ESRCH;
    } else {
        /* Unreaped while we hold the lock: the PID cannot have been recycled, and neither can
         * the group ID it leads (the kernel never hands out a PID still in use as a PGID). A
         * zombie leader still names its group; its members may well be running. Unless someone
         * else's waitpid(-1) stole the reap: that is checked first. */
        rc = 0;
        if (p->pidfd >= 0) {
            long r = FL_SYS4(SYS_pidfd_send_signal, p->pidfd, 0, NULL, 0);
            if (r == -ESRCH) rc = -ESRCH; /* a zombie answers 0; only a reaped process ESRCH */
        } else {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            if (FL_SYS5(SYS_waitid, P_PID, p->pid, &si, WEXITED | WNOWAIT | WNOHANG, NULL) == -ECHILD) {
                p->lost = 1;
                rc = -ESRCH;
            }
        }
        pid_t pgid = rc < 0 ? -1 : getpgid((pid_t)p->pid);
        if (rc < 0) {
            /* stolen: nothing to signal safely */
        } else if (pgid < 0) {
            rc = -errno;
        } else if (pgid != (pid_t)p->pid) {
            rc = -EINVAL; /* not a group leader: signalling its group would hit others */
        } else {
            rc = kill(-pgid, sig) == 0 ? 0 : -errno;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

static void destroy(fl_process *p) {
    if (p->pidfd >= 0) close(p->pidfd);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int fl_reap_orphans(void) {
    pthread_mutex_lock(&orphans_lock);
    int remaining = 0;
    fl_process **link = &orphans;
    while (*link != NULL) {
        fl_process *p = *link;
        pthread_mutex_lock(&p->lock);
        int rc = reap_locked(p, 1);
        pthread_mutex_unlock(&p->lock);
        if (rc == 0) {
            remaining++;
            link = &p->next_orphan;
        } else {
            *link = p->next_orphan;
            destroy(p);
        }
    }
    pthread_mutex_unlock(&orphans_lock);
    return remaining;
}

void fl_process_unref(fl_process *p) {
    pthread_mutex_lock(&p->lock);
    int left = --p->refs;
    int rc = left == 0 ? reap_locked(p, 1) : 0;
    pthread_mutex_unlock(&p->lock);
    if (left > 0) return; /* the other holder (a reactor) finishes it */
    if (rc == 0) {
        pthread_mutex_lock(&orphans_lock);
        p->next_orphan = orphans;
        orphans = p;
        pthread_mutex_unlock(&orphans_lock);
    } else {
        destroy(p);
    }
}

void fl_process_close(fl_process *p) {
    if (p == NULL) return;
    fl_process_unref(p);
    fl_reap_orphans();
}

int fl_process_watch(fl_process *p) {
    pthread_mutex_lock(&p->lock);
    int rc;
    if (p->watched) {
        rc = -EEXIST;
    } else {
        p->watched = 1;
        p->refs++;
        rc = p->reaped || p->lost;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void fl_process_unwatch(fl_process *p) {
    pthread_mutex_lock(&p->lock);
    p->watched = 0;
    pthread_mutex_unlock(&p->lock);
    fl_process_unref(p);
}

int fl_process_reap_nohang(fl_process *p, fl_exit_status *status) { return try_reap(p, status); }

void fl_process_reap_failed_child(int64_t pid, int pidfd) {
    siginfo_t si;
    long rc;
    do {
        memset(&si, 0, sizeof si);
        rc = pidfd >= 0 ? FL_SYS5(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED, NULL)
                        : FL_SYS5(SYS_waitid, P_PID, pid, &si, WEXITED, NULL);
    } while (rc == -EINTR);
    if (pidfd >= 0) close(pidfd);
}
